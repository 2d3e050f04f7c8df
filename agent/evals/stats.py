"""Small statistics for eval reports: seeded bootstrap CIs, paired A/B deltas with wins/losses/ties, spreads."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel

SEED = 20240601
RESAMPLES = 2000


class Spread(BaseModel):
    """Mean and spread of repeated measurements (a flaky judge or model shows a large std)."""

    n: int
    mean: float
    std: float
    min: float
    max: float


class Comparison(BaseModel):
    """Candidate minus baseline on one metric over the cases both scored."""

    metric: str
    n: int
    baseline: float
    candidate: float
    delta: float
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    higher_is_better: bool = True

    @property
    def significant(self) -> bool:
        """True when the 95% interval of the delta excludes zero."""
        return self.n > 1 and (self.ci_low > 0 or self.ci_high < 0)


def spread(values: Sequence[float]) -> Spread:
    vals = [float(v) for v in values]
    if not vals:
        return Spread(n=0, mean=math.nan, std=math.nan, min=math.nan, max=math.nan)
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return Spread(n=len(vals), mean=mean, std=std, min=min(vals), max=max(vals))


def bootstrap_ci(values: Sequence[float], confidence: float = 0.95, resamples: int = RESAMPLES,
                 seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean; a single value (or none) gives a degenerate interval."""
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return (math.nan, math.nan)
    if arr.size == 1:
        return (float(arr[0]), float(arr[0]))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(resamples, arr.size))
    means = arr[idx].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def compare(metric: str, baseline: dict[str, float], candidate: dict[str, float], higher_is_better: bool = True,
            tie_tolerance: float = 1e-9, seed: int = SEED) -> Comparison:
    """Paired comparison over case ids present in both runs: mean delta, its bootstrap CI, and per-case tallies."""
    ids = sorted(set(baseline) & set(candidate))
    deltas = [candidate[i] - baseline[i] for i in ids]
    better = [d if higher_is_better else -d for d in deltas]
    wins = sum(1 for b in better if b > tie_tolerance)
    losses = sum(1 for b in better if b < -tie_tolerance)
    low, high = bootstrap_ci(deltas, seed=seed) if deltas else (math.nan, math.nan)

    def mean_of(xs: list[float]) -> float:
        return sum(xs) / len(xs) if xs else math.nan

    return Comparison(metric=metric, n=len(ids), baseline=mean_of([baseline[i] for i in ids]),
                      candidate=mean_of([candidate[i] for i in ids]), delta=mean_of(deltas), ci_low=low, ci_high=high,
                      wins=wins, losses=losses, ties=len(ids) - wins - losses, higher_is_better=higher_is_better)
