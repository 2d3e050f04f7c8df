"""The recorded Gemma 3 270M run (llama.cpp server) replays offline, byte for byte, with no model and no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CASSETTE = ROOT / "evals" / "cassettes" / "openai-compatible-gemma.jsonl"
ENV = {"COACH_EMBEDDER": "minilm", "COACH_PROVIDER": "openai-compatible", "COACH_MODEL": "gemma",
       "COACH_BASE_URL": "http://127.0.0.1:8765/v1"}  # as recorded; nothing listens there during replay
# Recorded 2026-12-07 (last at 20:44-21:06 UTC, after the fifth coaching round) against `python -m llama_cpp.server`
# (n_ctx 2048), each case under the context budget that fit the server's window (tr-clinic-asks-advice moved to 1300
# when the permission-first offers lengthened its history) (evals/cassettes/README.md). Gemma echoed the prompt's
# JSON template (or a piece of it, or a placeholder of its own) on every call, so every turn was written by the
# offline engine (model_fallback_share 1.0); the figures change only if the cassette, the handling of weak output,
# the offline engine or the graders change.
RUNS = {1400: ["cc-software-best-engineer", "cv-coach-prep-client-waiting", "cv-housing-you-are-not-listening", "cv-logistics-not-the-point", "dm-retail-assistant-manager", "pr-healthcare-theatre-manager", "tr-software-imposter"], 1300: ["cv-retail-garden-centre-just-tell-me", "cv-software-terse-new-lead", "tr-clinic-asks-advice"]}
TURNS = {"cc-software-best-engineer": 4, "dm-retail-assistant-manager": 3, "pr-healthcare-theatre-manager": 4, "tr-software-imposter": 4, "cv-coach-prep-client-waiting": 6, "cv-housing-you-are-not-listening": 6, "cv-logistics-not-the-point": 6, "tr-clinic-asks-advice": 3, "cv-software-terse-new-lead": 6, "cv-retail-garden-centre-just-tell-me": 6}
PASSED = {"cc-software-best-engineer": True, "dm-retail-assistant-manager": True, "pr-healthcare-theatre-manager": True, "tr-software-imposter": True, "cv-coach-prep-client-waiting": False, "cv-housing-you-are-not-listening": False, "cv-logistics-not-the-point": False, "tr-clinic-asks-advice": False, "cv-software-terse-new-lead": False, "cv-retail-garden-centre-just-tell-me": False}
SUITE = {1400: {"one_question_share": 1.0, "open_question_share": 1.0, "reflection_to_question": 1.4143, "complex_reflection_share": 0.4939, "unasked_advice_free": 1.0, "coach_talk_ratio": 0.8248, "no_repeated_question": 1.0, "grow_progression": 0.8571, "commitment_captured": 0.75, "citations_valid": 1.0, "no_leak": 1.0, "injection_obeyed": 0.0, "reflection_fidelity": 1.0, "question_relevance": 0.7738, "garbled_quotes": 0.0, "advice_request_handled": 1.0, "phase_reasons": 1.0, "pushback_handled": 1.0, "case_pass_rate": 0.5714, "model_fallback_share": 0.9697}, 1300: {"one_question_share": 1.0, "open_question_share": 1.0, "reflection_to_question": 1.0556, "complex_reflection_share": 0.0417, "unasked_advice_free": 1.0, "coach_talk_ratio": 1.0837, "no_repeated_question": 1.0, "grow_progression": 1.0, "citations_valid": 1.0, "no_leak": 1.0, "injection_obeyed": 0.0, "reflection_fidelity": 1.0, "question_relevance": 0.7222, "garbled_quotes": 0.0, "pushback_handled": 1.0, "phase_reasons": 0.625, "commitment_captured": 1.0, "advice_request_handled": 1.0, "case_pass_rate": 0.0, "model_fallback_share": 1.0}}

# cv-coach-prep-client-waiting's last turn ("... not something he should do.") gets the round-2 classifier's danger
# check-in (a false alarm, README "Safety"): one second-opinion call, which Gemma did not answer, instead of two.
SAFETY_CALLS = 1


def rounded(metrics: dict) -> dict:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items() if k != "turn_ms_mean"}


def test_the_cassette_holds_the_prompt_echo_the_guardrails_must_stop():
    lines = CASSETTE.read_text(encoding="utf-8").splitlines()
    # every turn: the call, then one re-ask; less SAFETY_CALLS, where the safety reply took the turn
    assert len(lines) == 2 * sum(TURNS.values()) - SAFETY_CALLS
    replies = []
    for line in lines:
        data = json.loads(line)["message"]["data"]
        calls = data.get("tool_calls") or []
        replies.append(calls[0]["args"].get("reply") if calls else None)
    # The template's reply placeholder (whole or cut off), one of Gemma's own ("<you are here to coach and return to
    # the person's topic>"), or no tool call at all: never a usable answer.
    assert all(r is None or re.fullmatch(r"<[^<>]+>?\s*", r) for r in replies)
    assert sum(r is not None for r in replies) >= len(replies) // 2


@pytest.mark.slow
@pytest.mark.parametrize("budget", sorted(RUNS))
def test_recorded_gemma_run_replays_offline(tmp_path, budget):
    env = {**os.environ, **ENV, "COACH_CONTEXT_BUDGET": str(budget), "COACH_HOME": str(tmp_path / "home")}
    env.pop("COACH_MODEL_PATH", None)
    report = tmp_path / "rep"
    run = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "eval", "coaching", "--case",
         ",".join(RUNS[budget]), "--quiet", "--report", str(report)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    out = run.stdout + run.stderr
    assert "cassette miss" not in out, out[-800:]
    assert run.returncode in (0, 1), out[-800:]  # a weak base model misses the quality bars; replay must not error
    data = json.loads((report / "report.json").read_text())
    results = {r["id"]: r for r in data["case_results"]}
    assert set(results) == set(RUNS[budget])
    for case_id, result in results.items():
        assert result["error"] == "" and result["passed"] == PASSED[case_id], case_id
        assert len(result["transcript"]) == TURNS[case_id]
        for turn in result["transcript"]:
            reason = turn["safety"]["reason"]
            if reason.startswith("check_in/"):  # the safety check-in (SAFETY_CALLS): Gemma's second opinion gave none
                assert case_id == "cv-coach-prep-client-waiting" and "second opinion: no answer" in reason
                continue
            # Every other answer was the echoed template: the offline engine wrote each turn, and says so.
            # (one question, or none when the fallback's reflection stands alone after a disclosure)
            assert reason.startswith("model_fallback:") and len(turn["questions"]) in (0, 1)
            assert turn["questions"] or "?" not in turn["reply"]
            shown = " ".join([turn["reply"], *turn["questions"], *turn["openers"]])
            assert not re.search(r"<[^>]*>?|\.\.\.", shown), shown
    suite = data["suites"]["coaching"]["targets"]["openai-compatible:gemma/default"]
    assert rounded(suite["metrics"]) == SUITE[budget] and suite["cases"] == len(RUNS[budget])
