"""Eval report JSON flattened for charts: one row per (variant, metric), tolerant of missing or extra keys."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.core.errors import CoachError

_VALUE_KEYS = ("value", "mean", "score", "avg", "rate")
_THRESHOLD_KEYS = ("threshold", "min", "minimum", "target", "gate")
_MAX_KEYS = ("max", "maximum")


class ReportError(CoachError):
    """An eval report that cannot be read."""


class MetricRow(BaseModel):
    variant: str
    metric: str
    suite: str = ""
    label: str = ""
    value: float
    threshold: float | None = None
    higher_is_better: bool = True
    passed: bool | None = None
    n: int | None = None


class ReportView(BaseModel):
    """What the Evals page draws: metric rows, comparison rows and the headline facts."""

    title: str = "eval report"
    passed: bool | None = None
    rows: list[MetricRow]
    comparisons: list[dict[str, Any]] = []
    facts: dict[str, str] = {}


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _first(data: dict, keys: tuple[str, ...]) -> Any:
    return next((data[k] for k in keys if k in data and data[k] is not None), None)


def _metric_row(variant: str, name: str, raw: Any, thresholds: dict[str, Any]) -> MetricRow | None:
    info = raw if isinstance(raw, dict) else {"value": raw}
    value = _num(_first(info, _VALUE_KEYS))
    if value is None:
        return None
    gate = info.get("threshold", thresholds.get(name))
    higher = bool(info.get("higher_is_better", True))
    if isinstance(gate, dict):
        higher = "max" not in gate and "maximum" not in gate and bool(gate.get("higher_is_better", higher))
        gate = _first(gate, _THRESHOLD_KEYS + _MAX_KEYS)
    threshold = _num(gate if gate is not None else _first(info, _THRESHOLD_KEYS[1:]))
    if threshold is None and _first(info, _MAX_KEYS) is not None:
        threshold, higher = _num(_first(info, _MAX_KEYS)), False
    passed = info.get("passed", info.get("pass"))
    if not isinstance(passed, bool):
        passed = None if threshold is None else (value >= threshold if higher else value <= threshold)
    n = info.get("n", info.get("count"))
    return MetricRow(
        variant=variant,
        metric=name,
        suite=str(info.get("suite") or (name.split(".", 1)[0] if "." in name else "")),
        label=str(info.get("label", "")),
        value=value,
        threshold=threshold,
        higher_is_better=higher,
        passed=passed,
        n=n if isinstance(n, int) else None,
    )


def _variants(data: dict) -> list[tuple[str, dict]]:
    """(variant name, its metrics dict) from the shapes reports come in."""
    found = data.get("variants", data.get("results", data.get("runs")))
    out: list[tuple[str, dict]] = []
    if isinstance(found, dict):
        for name, body in found.items():
            if isinstance(body, dict):
                out.append((str(name), body.get("metrics", body.get("scores", body))))
    elif isinstance(found, list):
        for i, body in enumerate(found):
            if isinstance(body, dict):
                name = body.get("variant", body.get("name", body.get("label", f"run {i + 1}")))
                out.append((str(name), body.get("metrics", body.get("scores", {}))))
    if not out and isinstance(data.get("metrics", data.get("scores")), dict):
        out.append((str(data.get("variant", "default")), data.get("metrics", data.get("scores"))))
    return out


def view_report(data: Any) -> ReportView:
    """Flatten a parsed report; a report with no numeric metric is a ReportError."""
    if not isinstance(data, dict):
        raise ReportError("the report is not a JSON object")
    thresholds = data.get("thresholds") if isinstance(data.get("thresholds"), dict) else {}
    rows: list[MetricRow] = []
    for variant, metrics in _variants(data):
        if not isinstance(metrics, dict):
            continue
        for name, raw in metrics.items():
            row = _metric_row(variant, str(name), raw, thresholds)
            if row is not None:
                rows.append(row)
    if not rows:
        raise ReportError("the report has no metric scores to show")
    comps = data.get("comparisons", data.get("comparison", []))
    if isinstance(comps, dict):
        comps = [
            {"metric": k, **v} if isinstance(v, dict) else {"metric": k, "delta": v} for k, v in comps.items()
        ]
    comparisons = [c for c in comps if isinstance(c, dict)] if isinstance(comps, list) else []
    comparisons = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in c.items()}
        for c in comparisons
    ]
    facts = {
        k: str(data[k])
        for k in ("suite", "mode", "created_at", "started_at", "model", "provider", "cases")
        if k in data and isinstance(data[k], (str, int, float))
    }
    passed = data.get("passed", data.get("pass"))
    if not isinstance(passed, bool):
        verdicts = [r.passed for r in rows if r.passed is not None]
        passed = all(verdicts) if verdicts else None
    return ReportView(
        title=str(data.get("title", data.get("suite", "eval report"))),
        passed=passed,
        rows=rows,
        comparisons=comparisons,
        facts=facts,
    )


def load_report(path: Path) -> ReportView:
    """Read and flatten a report file; unreadable or malformed files are one-line ReportErrors."""
    try:
        return view_report(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{Path(path).name}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{Path(path).name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def parse_report(data: bytes, name: str = "upload") -> ReportView:
    """Flatten uploaded report bytes."""
    try:
        return view_report(json.loads(data.decode("utf-8")))
    except UnicodeDecodeError:
        raise ReportError(f"{name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def find_reports(*roots: Path, limit: int = 200) -> list[Path]:
    """report.json files (and other *.json) under the given folders, newest first."""
    found: dict[Path, float] = {}
    for root in roots:
        if root.is_dir():
            for path in root.rglob("*.json"):
                if path.is_file():
                    found[path.resolve()] = path.stat().st_mtime
    return sorted(found, key=lambda p: -found[p])[:limit]
