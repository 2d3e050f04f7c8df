"""`coach eval`: exit codes, the missed-threshold lines, the reports, and one-line usage errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.cli.main import app

ONE_CASE = ["coaching", "--case", "cc-software-best-engineer", "-q"]


def run(*args: str):
    return CliRunner().invoke(app, ["eval", *args])


def thresholds(tmp_path, body: str):
    path = tmp_path / "thresholds.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


@pytest.mark.slow
def test_met_thresholds_exit_0_and_write_all_reports(tmp_path):
    bars = thresholds(tmp_path, "suites:\n  coaching:\n    one_question_share: {min: 0.5}\n")
    result = run(*ONE_CASE, "--thresholds", bars, "--report", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "eval passed" in result.output and "1/1 thresholds met" in result.output
    for name in ("report.json", "report.md", "report.html", "junit.xml"):
        assert (tmp_path / "out" / name).is_file()
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["passed"] is True and data["cases"] == 1


@pytest.mark.slow
def test_a_missed_threshold_exits_1_and_names_it(tmp_path):
    bars = thresholds(tmp_path, "suites:\n  coaching:\n    coach_talk_ratio: {max: 0.01}\n"
                                "    one_question_share: {min: 0.5}\n")
    result = run(*ONE_CASE, "--thresholds", bars)
    assert result.exit_code == 1
    assert "threshold missed: coaching.coach_talk_ratio" in result.output
    assert "one_question_share" not in result.output.split("threshold missed")[1]


@pytest.mark.parametrize("args, message", [
    (["vibes"], "unknown suite"),
    (["coaching", "--compare", "nonsense"], "neither a provider"),
    (["coaching", "--prompt-variant", "nope"], "no coach prompt variant"),
    (["coaching", "--record"], "--record needs a model provider"),
    (["coaching", "--judge", "--case", "cc-software-best-engineer"], "the LLM judge needs a model provider"),
    (["coaching", "--thresholds", "/nonexistent/thresholds.yaml"], "cannot read"),
])
def test_usage_errors_are_one_line_and_exit_2(args, message):
    result = run(*args, "-q")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def test_bad_thresholds_file_is_named(tmp_path):
    bars = thresholds(tmp_path, "suites:\n  coaching:\n    one_question_share: {min: 0.5, max: 0.9}\n")
    result = run("coaching", "--thresholds", bars, "-q")
    assert result.exit_code == 2 and "thresholds.yaml: suites.coaching.one_question_share" in result.output
