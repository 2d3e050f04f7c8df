"""`coach ask --json` as a user runs it, against a real llama.cpp server (Gemma 3 270M): plumbing, not quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.types import CoachTurn
from tests.coach_helpers import home_with_corpus
from tests.conftest import ROOT
from tests.conftest_llm import llama_server  # noqa: F401  (session fixture)

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.timeout(600)]
MESSAGE = "My peer in finance keeps rejecting my budget requests and I feel shut out of planning."
ASK_SECONDS = 240  # one bounded generation on a busy 2-core machine


def coach_cmd() -> list[str]:
    script = ROOT / ".venv" / "bin" / "coach"
    alt = Path(sys.executable).parent / "coach"
    return [str(script if script.is_file() else alt)]


def test_coach_ask_json_against_a_real_model_gives_a_valid_turn(llama_server, coach_home):  # noqa: F811
    settings = home_with_corpus(coach_home)  # the corpus index in place, so the run is the model's time
    env = {**os.environ, **llama_server.env}
    searched = subprocess.run([*coach_cmd(), "search", MESSAGE, "--k", str(settings.top_k), "--json"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120, check=False)
    assert searched.returncode == 0, searched.stderr
    retrieved = {(h["source"], h["chunk"]) for h in json.loads(searched.stdout)}
    assert retrieved

    asked = subprocess.run([*coach_cmd(), "ask", "--provider", "openai-compatible", "--base-url",
                            llama_server.base_url, "--model", "gemma", "--json", MESSAGE],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=ASK_SECONDS,
                           check=False)
    assert asked.returncode == 0, asked.stderr[-1500:]
    turn = CoachTurn.model_validate_json(asked.stdout)
    assert turn.reply.strip() and len(turn.questions) <= 2
    assert {(c.source, c.chunk) for c in turn.citations} <= retrieved
    assert turn.session and turn.safety.category in ("ok", "output_fixed")

    shown = subprocess.run([*coach_cmd(), "sessions", "show", turn.session, "--json"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert shown.returncode == 0 and json.loads(shown.stdout)["messages"][1]["text"] == turn.reply
