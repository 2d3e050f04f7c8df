"""The recorded Gemma 3 270M run replays offline, byte for byte, with no model and no network."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CASE = "cc-software-best-engineer"


@pytest.mark.slow
def test_recorded_gemma_run_replays_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_EMBEDDER", "minilm")  # the recording was made with the real embedder
    monkeypatch.delenv("COACH_MODEL_PATH", raising=False)
    report = tmp_path / "rep"
    run = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "eval", "coaching", "--provider", "llamacpp",
         "--case", CASE, "--quiet", "--report", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert "cassette miss" not in out, out[-800:]
    assert run.returncode in (0, 1), out[-800:]  # a weak base model misses the quality bars; replay must not error
    results = json.loads((report / "report.json").read_text())["case_results"]
    (case,) = [r for r in results if r["id"] == CASE]
    assert case["error"] == ""
    # The figures recorded on 2026-11-25; they change only if the cassette or the graders change.
    assert case["metrics"]["one_question_share"] == 0.75
    assert case["metrics"]["coach_talk_ratio"] == pytest.approx(0.2893, abs=1e-3)
