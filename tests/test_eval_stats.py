"""Bootstrap intervals and paired comparisons behave like statistics should, and are seeded."""

from __future__ import annotations

import math

import pytest

from agent.evals.stats import bootstrap_ci, compare, spread


def test_bootstrap_ci_brackets_the_mean_and_is_reproducible():
    values = [0.2, 0.4, 0.5, 0.6, 0.9, 0.3, 0.7, 0.8]
    low, high = bootstrap_ci(values)
    mean = sum(values) / len(values)
    assert low < mean < high
    assert (low, high) == bootstrap_ci(values)
    assert bootstrap_ci(values, seed=1) != bootstrap_ci(values, seed=2)


def test_bootstrap_ci_narrows_with_more_data():
    few = bootstrap_ci([0.0, 1.0] * 5)
    many = bootstrap_ci([0.0, 1.0] * 200)
    assert (many[1] - many[0]) < (few[1] - few[0])


def test_bootstrap_degenerate_inputs():
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert all(math.isnan(x) for x in bootstrap_ci([]))


def test_compare_counts_wins_losses_ties_per_case():
    base = {"a": 0.5, "b": 0.5, "c": 0.5, "d": 1.0}
    cand = {"a": 1.0, "b": 0.5, "c": 0.0, "d": 1.0, "extra": 1.0}
    c = compare("m", base, cand)
    assert (c.n, c.wins, c.losses, c.ties) == (4, 1, 1, 2)
    assert c.delta == pytest.approx(0.0)
    assert c.ci_low <= 0 <= c.ci_high and not c.significant


def test_compare_respects_direction_for_lower_is_better_metrics():
    base = {str(i): 1.5 for i in range(10)}
    cand = {str(i): 0.8 for i in range(10)}
    c = compare("coach_talk_ratio", base, cand, higher_is_better=False)
    assert c.wins == 10 and c.losses == 0
    assert c.delta == pytest.approx(-0.7) and c.ci_high < 0 and c.significant


def test_consistent_improvement_is_significant():
    base = {str(i): 0.4 + 0.01 * i for i in range(20)}
    cand = {k: v + 0.2 for k, v in base.items()}
    c = compare("m", base, cand)
    assert c.ci_low > 0.15 and c.significant


def test_spread_shows_a_flaky_measure():
    steady, flaky = spread([4, 4, 4]), spread([1, 5, 3])
    assert steady.std == 0 and flaky.std > 1.5
    assert (flaky.min, flaky.max, flaky.mean) == (1, 5, 3)
