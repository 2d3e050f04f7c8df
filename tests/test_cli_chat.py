"""`coach ask` and `coach chat`: through typer's CliRunner, and the installed script in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.core.types import CoachTurn
from tests.coach_helpers import home_with_corpus

PEER = "My peer in finance, Priya, keeps blocking my budget requests."


@pytest.fixture
def runner(coach_home):
    home_with_corpus(coach_home)
    return CliRunner()


def test_ask_json_prints_the_coach_turn(runner):
    result = runner.invoke(app, ["ask", PEER, "--json"])
    assert result.exit_code == 0, result.output
    turn = CoachTurn.model_validate_json(result.stdout)
    assert turn.session and turn.situation == "peer_conflict" and len(turn.openers) == 3
    assert turn.questions and re.sub(r"\s*\[\d+\]$", "", turn.reply).endswith(turn.questions[-1])
    again = runner.invoke(app, ["ask", "I'll talk to Priya by Friday.", "--session", turn.session, "--json"])
    follow = json.loads(again.stdout)
    assert follow["session"] == turn.session and follow["phase"] == "closed"
    assert follow["commitment"]["by_when"] == "by Friday"


def test_ask_human_output_has_reply_sources_openers_and_phase(runner):
    result = runner.invoke(app, ["ask", PEER])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("coach> ") and "Priya" in out and "opener 1" in out and "phase: goal" in out
    assert "Sources: [1]" in out and "session " in out


def test_ask_unknown_session_is_one_line_error(runner):
    result = runner.invoke(app, ["ask", "hello", "--session", "missing"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "no session 'missing'" in result.stderr


def test_ask_bad_provider_is_one_line_error(runner):
    result = runner.invoke(app, ["ask", "hello", "--provider", "nonsense"])
    assert result.exit_code == 2 and result.stderr.startswith("error: bad setting provider")


def test_chat_session_with_commands(runner):
    lines = [PEER, "/sources", "/openers", "/help", "/bogus", "I want us to trust each other again.",
             "/export json", "/new", "/export", "/quit", "never read"]
    result = runner.invoke(app, ["chat"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("coach> ") == 2  # two turns, streamed
    assert "opener 1" in out and "/resume ID" in out  # opener cards and the help text
    assert "error: unknown command /bogus" in out
    assert '"messages"' in out  # the JSON export
    assert "error: nothing to export yet" in out  # after /new
    assert "never read" not in out


def test_chat_resume_and_eof(runner):
    first = json.loads(runner.invoke(app, ["ask", PEER, "--json"]).stdout)
    result = runner.invoke(app, ["chat"], input=f"/resume {first['session']}\nSo what now?\n")  # then EOF
    assert result.exit_code == 0, result.output
    assert f"Resumed {first['session']}" in result.stdout and result.stdout.count("coach> ") >= 1
    assert f"session {first['session']} saved" in result.stdout


@pytest.mark.slow
def test_installed_coach_script_answers_json(coach_home, tmp_path):
    script = Path(sys.executable).with_name("coach")
    assert script.exists(), "the coach script is not installed in the venv"
    home_with_corpus(coach_home)
    env = {**os.environ, "COACH_HOME": str(coach_home), "COACH_EMBEDDER": "hash"}
    proc = subprocess.run([str(script), "ask", PEER, "--json"], capture_output=True, text=True, env=env,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    turn = CoachTurn.model_validate_json(proc.stdout)
    assert turn.situation == "peer_conflict" and turn.openers and turn.questions
    bad = subprocess.run([str(script), "ask", "   "], capture_output=True, text=True, env=env, timeout=120,
                         cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: the message is empty; say what is on your mind"
    assert shutil.which("coach") or script.exists()
