"""Writes a generation folder batch by batch: chunk rows, vector rows and BM25 statistics, never all at once."""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.types import Chunk
from agent.index.generation import (
    BM25_B,
    BM25_DIR,
    BM25_K1,
    META,
    STORE,
    VECTORS,
    SourceInfo,
    bm25_terms,
)


class BM25Builder:
    """Collects per-document term counts as compact arrays, then writes a bm25s index (Lucene BM25).

    bm25s.BM25.index wants every document's token list at once: 100k chunks made ~15M Python strings.
    Here each document costs a few bytes per distinct term; the scores match bm25s's own to float32 rounding.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.vocab: dict[str, int] = {}
        self.doc_len = np.zeros(count, dtype=np.int64)
        self._terms: list[np.ndarray] = []
        self._docs: list[np.ndarray] = []
        self._tfs: list[np.ndarray] = []

    def add(self, positions: list[int], texts: list[str]) -> None:
        """Count the terms of `texts`, the documents at `positions`."""
        vocab = self.vocab
        ids: list[int] = []
        docs: list[int] = []
        for pos, terms in zip(positions, bm25_terms(texts), strict=True):
            self.doc_len[pos] = len(terms)
            ids.extend(vocab.setdefault(t, len(vocab)) for t in terms)
            docs.extend([pos] * len(terms))
        if not ids:
            return
        keys = (np.asarray(docs, dtype=np.int64) << 32) | np.asarray(ids, dtype=np.int64)
        unique, counts = np.unique(keys, return_counts=True)
        self._docs.append((unique >> 32).astype(np.int32))
        self._terms.append((unique & 0xFFFFFFFF).astype(np.int32))
        self._tfs.append(counts.astype(np.float32))

    def save(self, folder: Path) -> None:
        """Compute the scores (idf x saturated tf, as bm25s's "lucene" method) and save them with bm25s."""
        import bm25s

        n_vocab = len(self.vocab)
        df = np.zeros(n_vocab, dtype=np.int64)
        for terms in self._terms:
            df += np.bincount(terms, minlength=n_vocab)
        idf = np.array(
            [math.log(1 + (self.count - d + 0.5) / (d + 0.5)) for d in df.tolist()], dtype=np.float32
        )
        avg_len = float(self.doc_len.mean()) if self.count else 0.0
        norm = (BM25_K1 * ((1 - BM25_B) + BM25_B * self.doc_len / max(avg_len, 1e-9))).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        data = np.empty(int(indptr[-1]), dtype=np.float32)
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        fill = indptr[:-1].copy()
        # Column-major (CSC, by term) placement one batch at a time, each batch freed once placed.
        while self._terms:
            terms, docs, tfs = self._terms.pop(0), self._docs.pop(0), self._tfs.pop(0)
            order = np.argsort(terms, kind="stable")
            terms, docs, tfs = terms[order], docs[order], tfs[order]
            uniq, first, counts = np.unique(terms, return_index=True, return_counts=True)
            slots = fill[terms] + (np.arange(len(terms)) - np.repeat(first, counts))
            data[slots] = idf[terms] * (tfs / (norm[docs] + tfs))
            indices[slots] = docs
            fill[uniq] += counts
        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": self.count}
        bm25.vocab_dict = {**self.vocab, "": n_vocab}  # bm25s adds the empty token last
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None
        bm25.save(str(folder), show_progress=False)


def write_bm25(folder: Path, chunks: Iterable[Chunk], count: int, batch: int = 1000) -> None:
    """Build the BM25 index of `count` chunks, given in position order, into `folder` (doctor can rebuild so)."""
    builder = BM25Builder(count)
    todo: list[Chunk] = []
    done = 0
    for chunk in chunks:
        todo.append(chunk)
        if len(todo) >= batch:
            builder.add(list(range(done, done + len(todo))), [c.text for c in todo])
            done, todo = done + len(todo), []
    builder.add(list(range(done, done + len(todo))), [c.text for c in todo])
    builder.save(folder)


class GenerationWriter:
    """Fills a new generation folder as batches arrive, in any order: each chunk has its final position.

    Rows go to SQLite, vectors straight to their rows of vectors.npy, terms to a BM25Builder; finish()
    writes the sources, the BM25 index, fsyncs everything and only then meta.json.
    """

    def __init__(self, folder: Path, count: int, dim: int) -> None:
        folder.mkdir(parents=True)
        self.folder, self.count, self.dim = folder, count, dim
        self._db = sqlite3.connect(folder / STORE)
        self._db.execute(
            "CREATE TABLE chunks (pos INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,"
            " chunk INTEGER NOT NULL, start INTEGER NOT NULL, end_ INTEGER NOT NULL, data TEXT NOT NULL)"
        )
        self._db.execute("CREATE TABLE sources (source TEXT PRIMARY KEY, data TEXT NOT NULL)")
        # Written by seeks, not a memory map: mapped pages would count towards the process's RSS.
        self._vec = open(folder / VECTORS, "w+b")  # noqa: SIM115 - closed in finish()
        np.lib.format.write_array_header_1_0(
            self._vec, {"descr": "<f4", "fortran_order": False, "shape": (count, dim)}
        )
        self._vec_offset = self._vec.tell()
        self._vec.truncate(self._vec_offset + count * dim * 4)
        self._filled = np.zeros(count, dtype=bool)
        self._bm25 = BM25Builder(count)

    def add(self, positions: list[int], chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Write chunks (with their vectors) at their final positions."""
        if not chunks:
            return
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        self._db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                (p, c.id, c.source, c.chunk, c.start, c.end, c.model_dump_json())
                for p, c in zip(positions, chunks)
            ),
        )
        row_bytes = self.dim * 4
        for p, row in zip(positions, rows):
            self._vec.seek(self._vec_offset + p * row_bytes)
            self._vec.write(row.tobytes())
        self._filled[positions] = True
        self._bm25.add(positions, [c.text for c in chunks])

    def finish(self, sources: dict[str, SourceInfo], meta: dict[str, Any]) -> None:
        """Complete the folder; the generation exists only once meta.json is in place."""
        if not self._filled.all():
            raise RuntimeError(
                f"generation {self.folder.name}: {int((~self._filled).sum())} chunks never written"
            )
        self._db.executemany(
            "INSERT INTO sources VALUES (?, ?)", ((s.source, s.model_dump_json()) for s in sources.values())
        )
        self._db.execute("CREATE INDEX chunks_source ON chunks (source, chunk)")
        self._db.commit()
        self._db.close()
        self._vec.close()
        if self.count:
            self._bm25.save(self.folder / BM25_DIR)
        _fsync_tree(self.folder)
        tmp = self.folder / (META + ".tmp")
        tmp.write_text(json.dumps({**meta, "count": self.count}, indent=1), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / META)

    def abort(self) -> None:
        """Close and delete an unfinished folder (after a kill -9, the next apply's GC deletes it)."""
        self._db.close()
        self._vec.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def write_generation(
    folder: Path,
    chunks: list[Chunk],
    vectors: np.ndarray,
    sources: dict[str, SourceInfo],
    meta: dict[str, Any],
) -> None:
    """Write a whole generation from lists in memory (small indexes and tests)."""
    writer = GenerationWriter(folder, len(chunks), vectors.shape[1] if vectors.ndim == 2 else 384)
    writer.add(list(range(len(chunks))), chunks, vectors)
    writer.finish(sources, meta)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as fh:
                os.fsync(fh.fileno())
        fd = os.open(dirpath, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
