"""BM25 without importing bm25s (and scipy, 0.12 s): its tokenizer and its saved index read with numpy alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

# bm25s.tokenize's defaults (scikit-learn's CountVectorizer pattern) and bm25s.stopwords.STOPWORDS_EN, copied so a
# query needs no bm25s import; tests/test_bm25_lite.py checks both still match the installed bm25s.
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")
STOPWORDS_EN = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
    "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
    "will", "with",
))


def tokenize(texts: list[str]) -> list[list[str]]:
    """bm25s.tokenize(texts, stopwords="en", return_ids=False): lower-cased words of 2+ characters, no stopwords."""
    return [[t for t in TOKEN_PATTERN.findall(text.lower()) if t not in STOPWORDS_EN] for text in texts]


class BM25Index:
    """A bm25s index folder (scores as a CSC matrix: one column of document scores per term), memory-mapped."""

    def __init__(self, folder: Path) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        self.num_docs = int(params["num_docs"])
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r")
        if len(self.indptr) < 2 or len(self.data) != len(self.indices) or int(self.indptr[-1]) != len(self.data):
            raise ValueError("BM25 score arrays do not fit together")

    def scores(self, term_ids: list[int]) -> np.ndarray:
        """Every document's score for the terms, summed term by term as bm25s does (same float32 results)."""
        ids = np.asarray(term_ids, dtype=np.int64)
        if len(ids) and int(ids.max()) >= len(self.indptr) - 1:
            raise ValueError("a term id beyond the index's vocabulary")
        out = np.zeros(self.num_docs, dtype=self.dtype)
        for t in ids.tolist():
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            np.add.at(out, self.indices[start:end], self.data[start:end])
        return out
