"""Eval reports flattened for the Evals page, whatever shape and gaps they have."""

from __future__ import annotations

import json
import math

import pytest

from agent.evals.view import ReportError, find_reports, load_report, parse_report, view_report


def test_variants_with_thresholds_and_directions():
    view = view_report(
        {
            "suite": "coaching",
            "thresholds": {"open": 0.8, "talk": {"max": 1.2}},
            "variants": {
                "a": {"metrics": {"open": 0.9, "talk": {"value": 1.5}}},
                "b": {"metrics": {"open": {"mean": 0.5}, "note": "text"}},
            },
        }
    )
    rows = {(r.variant, r.metric): r for r in view.rows}
    assert rows["a", "open"].passed is True and rows["b", "open"].passed is False
    assert rows["a", "talk"].higher_is_better is False and rows["a", "talk"].passed is False
    assert ("b", "note") not in rows  # not a number: skipped, not an error
    assert view.passed is False and view.facts["suite"] == "coaching"


def test_single_run_list_shape_and_explicit_pass_flag():
    view = view_report(
        {"results": [{"variant": "x", "scores": {"m": {"score": 0.4, "passed": True}}}], "passed": True}
    )
    assert [(r.variant, r.metric, r.value, r.passed) for r in view.rows] == [("x", "m", 0.4, True)]
    assert view.passed is True


def test_top_level_metrics_and_nan_comparisons():
    view = view_report(
        {"metrics": {"m": 1.0, "gone": math.nan}, "comparisons": {"m": {"delta": math.nan, "baseline": 1.0}}}
    )
    assert [r.metric for r in view.rows] == ["m"] and view.passed is None
    assert view.comparisons == [{"metric": "m", "delta": None, "baseline": 1.0}]


@pytest.mark.parametrize("data", [[], {}, {"variants": {"a": {"metrics": {"m": "high"}}}}])
def test_reports_without_scores_are_one_line_errors(data):
    with pytest.raises(ReportError):
        view_report(data)


def test_files_bad_json_and_discovery(tmp_path):
    good = tmp_path / "r" / "1" / "report.json"
    good.parent.mkdir(parents=True)
    good.write_text(json.dumps({"metrics": {"m": 0.5}}))
    bad = tmp_path / "r" / "bad.json"
    bad.write_text("{oops")
    assert set(find_reports(tmp_path / "r", tmp_path / "missing")) == {good.resolve(), bad.resolve()}
    assert load_report(good).rows[0].value == 0.5
    with pytest.raises(ReportError, match="bad.json: not valid JSON"):
        load_report(bad)
    with pytest.raises(ReportError, match="not UTF-8"):
        parse_report(b"\xff\xfe", "x.json")
