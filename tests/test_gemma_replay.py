"""The recorded Gemma 3 270M run replays offline, byte for byte, with no model and no network."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CASES = "[cdpt][cmr]-[chrs]*-[abit]*"  # a glob that matches exactly the five recorded cases
CASSETTE = ROOT / "evals" / "cassettes" / "llamacpp-gguf.jsonl"
_COMMON = {"one_question_share": 1.0, "open_question_share": 1.0, "unasked_advice_free": 1.0,
           "no_repeated_question": 1.0, "grow_progression": 1.0, "commitment_captured": None, "citations_valid": 1.0,
           "no_leak": 1.0, "pushback_handled": None, "advice_request_handled": None, "phase_reasons": None}
# The figures of the recording made on 2026-11-25 (rounded to 4 places), meaning graders included; they change only
# if the cassette, the coach's handling of weak output, the offline engine or the graders change. Gemma echoed the prompt's JSON template
# on every call, re-asks included, so every turn was written by the offline engine (model_fallback_share 1.0).
PINNED = {
    "cc-software-best-engineer": {**_COMMON, "reflection_to_question": 1.5, "complex_reflection_share": 0.5,
                                  "coach_talk_ratio": 0.6792, "commitment_captured": 1.0,
                                  "reflection_fidelity": 0.5, "question_relevance": 0.75, "garbled_quotes": 2.0},
    "pr-healthcare-theatre-manager": {**_COMMON, "reflection_to_question": 1.0, "complex_reflection_share": 0.75,
                                      "coach_talk_ratio": 0.8547,
                                      "reflection_fidelity": 0.5, "question_relevance": 1.0, "garbled_quotes": 2.0},
    "dm-retail-assistant-manager": {**_COMMON, "reflection_to_question": 1.0, "complex_reflection_share": 0.6667,
                                    "coach_talk_ratio": 0.8333,
                                    "reflection_fidelity": 1.0, "question_relevance": 0.6667, "garbled_quotes": 1.0},
    "tr-software-imposter": {**_COMMON, "reflection_to_question": 1.0, "complex_reflection_share": 0.5,
                             "coach_talk_ratio": 0.8839,
                             "reflection_fidelity": 0.75, "question_relevance": 0.5, "garbled_quotes": 2.0},
    "tr-clinic-asks-advice": {**_COMMON, "reflection_to_question": 1.6667, "complex_reflection_share": 0.2,
                              "coach_talk_ratio": 0.9868,
                              "reflection_fidelity": 0.4, "question_relevance": 0.3333, "garbled_quotes": 0.0},
}
TURNS = {"cc-software-best-engineer": 4, "pr-healthcare-theatre-manager": 4, "dm-retail-assistant-manager": 3,
         "tr-software-imposter": 4, "tr-clinic-asks-advice": 3}
SUITE = {"one_question_share": 1.0, "open_question_share": 1.0, "reflection_to_question": 1.2333,
         "complex_reflection_share": 0.5233, "unasked_advice_free": 1.0, "coach_talk_ratio": 0.8476,
         "no_repeated_question": 1.0, "grow_progression": 1.0, "commitment_captured": 1.0, "citations_valid": 1.0,
         "no_leak": 1.0, "reflection_fidelity": 0.63, "question_relevance": 0.65, "garbled_quotes": 1.4,
         "case_pass_rate": 1.0, "model_fallback_share": 1.0}


def rounded(metrics: dict) -> dict:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items() if k != "turn_ms_mean"}


def test_the_cassette_holds_the_prompt_echo_the_guardrails_must_stop():
    lines = CASSETTE.read_text(encoding="utf-8").splitlines()
    args = [json.loads(line)["message"]["data"]["tool_calls"][0]["args"] for line in lines]
    assert len(args) == 2 * sum(TURNS.values())  # every turn: the call, then one re-ask
    # The template's reply placeholder every time but once, when the tool call came back empty.
    replies = [a.get("reply") for a in args]
    assert replies.count(None) == 1 and args[replies.index(None)] == {}
    assert all(re.fullmatch(r"<[a-z ,]+>", r) for r in replies if r is not None)


@pytest.mark.slow
def test_recorded_gemma_run_replays_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_EMBEDDER", "minilm")  # the recording was made with the real embedder
    monkeypatch.delenv("COACH_MODEL_PATH", raising=False)
    report = tmp_path / "rep"
    run = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "eval", "coaching", "--provider", "llamacpp",
         "--case", CASES, "--quiet", "--report", str(report)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600)
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
    suite = data["suites"]["coaching"]["targets"]["llamacpp/default"]
    assert rounded(suite["metrics"]) == SUITE and suite["cases"] == 5
