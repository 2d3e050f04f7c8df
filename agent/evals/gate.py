"""Quality bars from evals/thresholds.yaml, checked against a target's suite metrics."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from agent.core.errors import ConfigError
from agent.core.resources import evals_dir


class Threshold(BaseModel):
    """A bar on one metric: `min` (higher is better) or `max` (lower is better); `good` is the aspiration shown."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    good: float | None = None
    why: str = ""
    optional: bool = False  # a metric that is not reported (e.g. seed articles absent in a wheel) is skipped
    gating: bool = True  # false: a goal the engine does not meet yet; reported as missed, does not fail the run

    @model_validator(mode="after")
    def _one_bound(self) -> Threshold:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self

    @property
    def higher_is_better(self) -> bool:
        return self.min is not None

    def passes(self, value: float) -> bool:
        return value >= self.min if self.min is not None else value <= (self.max or 0.0)


class ThresholdResult(BaseModel):
    """One bar checked on one target; value None means the suite did not report the metric."""

    suite: str
    metric: str
    target: str
    value: float | None
    min: float | None = None
    max: float | None = None
    good: float | None = None
    why: str = ""
    passed: bool
    level: str = ""  # "good", "fair" (met the bar, not the good level), "met" (no good level), "missed", "n/a"
    gating: bool = True

    @property
    def blocks(self) -> bool:
        """True when this missed bar fails the run (a report-only goal never does)."""
        return self.gating and not self.passed

    def line(self) -> str:
        bar = f">= {self.min:g}" if self.min is not None else f"<= {self.max:g}"
        got = "not reported" if self.value is None else f"{self.value:.3f}"
        return f"{self.suite}.{self.metric} = {got} (needs {bar}) on {self.target}"


Thresholds = dict[str, dict[str, Threshold]]


def thresholds_path() -> Path:
    return evals_dir() / "thresholds.yaml"


def load_thresholds(path: Path | None = None) -> Thresholds:
    """suite -> metric -> Threshold; any problem is a one-line ConfigError naming the file."""
    import yaml

    path = path or thresholds_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path.name}: cannot read: {(str(exc).splitlines() or [''])[0]}") from None
    suites = data.get("suites") if isinstance(data, dict) else None
    if not isinstance(suites, dict):
        raise ConfigError(f"{path.name}: expected a mapping under 'suites'")
    out: Thresholds = {}
    for suite, metrics in suites.items():
        if not isinstance(metrics, dict):
            raise ConfigError(f"{path.name}: suites.{suite} must map metric names to bars")
        out[str(suite)] = {}
        for metric, raw in metrics.items():
            try:
                out[str(suite)][str(metric)] = Threshold(**(raw or {}))
            except (ValidationError, TypeError) as exc:
                msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                raise ConfigError(f"{path.name}: suites.{suite}.{metric}: {msg}") from None
    return out


def check(thresholds: Thresholds, suite: str, target: str, metrics: dict[str, Any]) -> list[ThresholdResult]:
    """Every bar of `suite` against its metrics; a metric that is missing or NaN misses its bar."""
    results = []
    for metric, bar in thresholds.get(suite, {}).items():
        raw = metrics.get(metric)
        value = float(raw) if isinstance(raw, (int, float)) and not math.isnan(float(raw)) else None
        if value is None and bar.optional:
            results.append(ThresholdResult(suite=suite, metric=metric, target=target, value=None, min=bar.min,
                                           max=bar.max, good=bar.good, why=bar.why, passed=True, level="n/a"))
            continue
        passed = value is not None and bar.passes(value)
        level = "missed"
        if passed:
            if bar.good is None:
                level = "met"
            else:
                level = "good" if (value >= bar.good if bar.higher_is_better else value <= bar.good) else "fair"
        results.append(ThresholdResult(suite=suite, metric=metric, target=target, value=value, min=bar.min,
                                       max=bar.max, good=bar.good, why=bar.why, passed=passed, level=level,
                                       gating=bar.gating))
    return results
