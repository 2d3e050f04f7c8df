"""Retrieval quality on the seed articles with the real embedder: hybrid hit@3 must stay at or above 0.9."""

from __future__ import annotations

import pytest

from agent.core.resources import evals_dir
from agent.core.settings import load_settings
from agent.evals.retrieval_eval import evaluate, load_questions, rank_of, score
from tests.conftest import require

QUESTIONS = evals_dir() / "retrieval" / "questions.yaml"


def test_scores_count_hits_and_reciprocal_ranks():
    assert rank_of(["a", "b", "b"], "b") == 2 and rank_of(["a"], "z") is None
    assert score([1, None, 3, 2], [1, 5, 3, 2]) == pytest.approx(
        {"hit@1": 0.25, "hit@3": 0.75, "mrr": (1 + 1 / 5 + 1 / 3 + 1 / 2) / 4}
    )


def test_question_file_is_big_enough_and_names_seed_files(seeds_dir):
    require(QUESTIONS.is_file(), f"{QUESTIONS} not written yet")
    pairs = load_questions(QUESTIONS)
    seeds = {p.name for p in seeds_dir.iterdir()}
    assert len(pairs) >= 36
    assert {expected for _, expected in pairs} <= seeds


@pytest.mark.slow
def test_hybrid_hit_at_3_on_the_seeds_is_at_least_0_9(seeds_dir):
    require(QUESTIONS.is_file(), f"{QUESTIONS} not written yet")
    result = evaluate(QUESTIONS, load_settings(), modes=("hybrid",), docs_dir=seeds_dir)
    hybrid = result["modes"]["hybrid"]
    assert result["embedder"] == "minilm-l6-int8"
    assert hybrid["hit@3"] >= 0.9, hybrid["misses"]
