"""The numpy BM25 reader and tokenizer give bm25s's own tokens and scores, without importing bm25s."""

from __future__ import annotations

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from agent.index.bm25_lite import STOPWORDS_EN as OURS
from agent.index.bm25_lite import BM25Index, tokenize
from agent.index.generation import bm25_terms
from agent.index.generation_writer import BM25Builder

TEXTS = [
    "The new team lead spends her days in meetings, and it is THE meetings that drain her.",
    "My peer in finance keeps blocking my budget requests; what's the way through?",
    "Delegation: hand over the outcome, not the steps. Café owners and naïve managers alike.",
    "",
    "a an the of",
    "Ünïcode wörds, numbers like 42 and 1:1s, e-mail and co-workers, x y z",
]


def test_stopwords_match_bm25s():
    assert frozenset(STOPWORDS_EN) == OURS


def test_tokenize_matches_bm25s():
    ours = tokenize(TEXTS)
    theirs = bm25s.tokenize(TEXTS, stopwords="en", return_ids=False, show_progress=False)
    assert ours == [list(doc) for doc in theirs]


def test_scores_match_bm25s(tmp_path):
    docs = TEXTS * 3 + [f"meeting budget team {n} finance delegation" * (n % 4 + 1) for n in range(30)]
    builder = BM25Builder(len(docs))
    builder.add(list(range(len(docs))), docs)
    builder.save(tmp_path)
    lite = BM25Index(tmp_path)
    full = bm25s.BM25.load(str(tmp_path), show_progress=False)
    assert lite.vocab == full.vocab_dict
    for query in ["team meetings budget", "finance finance blocking", "delegation outcome steps", "café"]:
        ids = [lite.vocab[t] for t in bm25_terms([query])[0] if t in lite.vocab]
        assert ids
        np.testing.assert_array_equal(lite.scores(ids), full.get_scores_from_ids(ids))
