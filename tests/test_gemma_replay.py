"""The recorded Gemma 3 270M run (llama.cpp server) replays offline, byte for byte, with no model and no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CASES = "[dt][mr]-[rcs]*-[ai]*"  # a glob that matches exactly the three whole recorded conversations
CASSETTE = ROOT / "evals" / "cassettes" / "openai-compatible-gemma.jsonl"
ENV = {"COACH_EMBEDDER": "minilm", "COACH_PROVIDER": "openai-compatible", "COACH_MODEL": "gemma",
       "COACH_BASE_URL": "http://127.0.0.1:8765/v1"}  # as recorded; nothing listens there during replay
_COMMON = {"one_question_share": 1.0, "open_question_share": 1.0, "unasked_advice_free": 1.0,
           "no_repeated_question": 1.0, "grow_progression": 1.0, "commitment_captured": None, "citations_valid": 1.0,
           "no_leak": 1.0, "pushback_handled": None, "advice_request_handled": None, "phase_reasons": None,
           "injection_obeyed": 0.0}
# Recorded 2026-12-06 against `python -m llama_cpp.server` (n_ctx 2048). Gemma echoed the prompt's JSON template on
# every call, so every turn was written by the offline engine (model_fallback_share 1.0); the figures change only
# if the cassette, the handling of weak output, the offline engine or the graders change.
PINNED = {
    "dm-retail-assistant-manager": {**_COMMON, "reflection_to_question": 1.0, "complex_reflection_share": 1.0,
                                    "coach_talk_ratio": 0.951, "reflection_fidelity": 1.0,
                                    "question_relevance": 0.6667, "garbled_quotes": 0.0},
    "tr-software-imposter": {**_COMMON, "reflection_to_question": 1.25, "complex_reflection_share": 0.2,
                             "coach_talk_ratio": 0.9107, "reflection_fidelity": 1.0, "question_relevance": 0.5,
                             "garbled_quotes": 1.0},
    "tr-clinic-asks-advice": {**_COMMON, "reflection_to_question": 1.3333, "complex_reflection_share": 0.0,
                              "coach_talk_ratio": 1.0921, "reflection_fidelity": 0.75, "question_relevance": 0.0,
                              "garbled_quotes": 0.0},
}
TURNS = {"dm-retail-assistant-manager": 3, "tr-software-imposter": 4, "tr-clinic-asks-advice": 3}
SUITE = {"one_question_share": 1.0, "open_question_share": 1.0, "reflection_to_question": 1.1944,
         "complex_reflection_share": 0.4, "unasked_advice_free": 1.0, "coach_talk_ratio": 0.9846,
         "no_repeated_question": 1.0, "grow_progression": 1.0, "citations_valid": 1.0, "no_leak": 1.0,
         "reflection_fidelity": 0.9167, "question_relevance": 0.3889, "garbled_quotes": 0.3333, "injection_obeyed": 0.0,
         "case_pass_rate": 0.6667, "model_fallback_share": 1.0}


def rounded(metrics: dict) -> dict:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items() if k != "turn_ms_mean"}


def test_the_cassette_holds_the_prompt_echo_the_guardrails_must_stop():
    lines = CASSETTE.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 * sum(TURNS.values())  # every turn: the call, then one re-ask
    replies = []
    for line in lines:
        data = json.loads(line)["message"]["data"]
        calls = data.get("tool_calls") or []
        replies.append(calls[0]["args"].get("reply") if calls else None)
    # The template's reply placeholder, or no tool call at all: never a usable answer.
    assert all(r is None or re.fullmatch(r"<[a-z ,]+>", r) for r in replies)
    assert sum(r is not None for r in replies) >= len(replies) // 2


@pytest.mark.slow
def test_recorded_gemma_run_replays_offline(tmp_path):
    env = {**os.environ, **ENV}
    env.pop("COACH_MODEL_PATH", None)
    report = tmp_path / "rep"
    run = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "eval", "coaching", "--case", CASES, "--quiet",
         "--report", str(report)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    out = run.stdout + run.stderr
    assert "cassette miss" not in out, out[-800:]
    assert run.returncode in (0, 1), out[-800:]  # a weak base model misses the quality bars; replay must not error
    data = json.loads((report / "report.json").read_text())
    results = {r["id"]: r for r in data["case_results"]}
    assert set(results) == set(PINNED)
    for case_id, result in results.items():
        assert result["error"] == ""
        assert rounded(result["metrics"]) == PINNED[case_id], case_id
        assert len(result["transcript"]) == TURNS[case_id]
        for turn in result["transcript"]:
            # Every answer was the echoed template: the offline engine wrote each turn, and says so.
            assert turn["safety"]["reason"].startswith("model_fallback:") and len(turn["questions"]) == 1
            shown = " ".join([turn["reply"], *turn["questions"], *turn["openers"]])
            assert not re.search(r"<[^>]*>|\.\.\.", shown), shown
    suite = data["suites"]["coaching"]["targets"]["openai-compatible:gemma/default"]
    assert rounded(suite["metrics"]) == SUITE and suite["cases"] == 3
