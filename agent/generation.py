"""One index generation on disk: chunk store + source manifest (SQLite), vectors (.npy) and BM25 (bm25s)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from agent.types import Chunk

META = "meta.json"  # written last: a generation folder without it is incomplete
STORE = "chunks.sqlite"
VECTORS = "vectors.npy"
BM25_DIR = "bm25"
STOPWORDS = "en"
BM25_K1, BM25_B = 1.2, 0.75  # the Lucene/Elasticsearch defaults; bm25s's k1=1.5 scored a little worse
# (suffix, replacement, min word length): plural, -ing and -ed forms meet their stem ("promoted", "promotes").
_SUFFIXES = (
    ("ies", "y", 5),
    ("sses", "ss", 5),
    ("ing", "", 6),
    ("ed", "", 5),
    ("ers", "er", 5),
    ("s", "", 4),
)
_GEN_NAME = re.compile(r"^g(\d{6,})$")


class SourceInfo(BaseModel):
    """What the index knows about one ingested file."""

    source: str
    title: str = ""
    sha256: str
    n_chunks: int
    link: str = ""


def gen_name(number: int) -> str:
    return f"g{number:06d}"


def gen_number(name: str) -> int | None:
    m = _GEN_NAME.match(name)
    return int(m.group(1)) if m else None


def light_stem(word: str) -> str:
    """Strip one common English inflection; crude, but applied alike to documents and queries."""
    for suffix, replacement, min_len in _SUFFIXES:
        if word.endswith(suffix) and len(word) >= min_len:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + replacement
    return word


def bm25_terms(texts: list[str]) -> list[list[str]]:
    """Lower-cased, lightly stemmed word tokens minus English stopwords, alike for documents and queries."""
    import bm25s

    tokens = bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=False, show_progress=False)
    return [[light_stem(t) for t in doc] for doc in tokens]


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


def write_generation(
    folder: Path,
    chunks: list[Chunk],
    vectors: np.ndarray,
    sources: dict[str, SourceInfo],
    meta: dict[str, Any],
) -> None:
    """Write every file of a generation, fsync them, and only then its meta.json."""
    folder.mkdir(parents=True)
    db = sqlite3.connect(folder / STORE)
    with db:
        db.execute(
            "CREATE TABLE chunks (pos INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, source TEXT NOT NULL,"
            " chunk INTEGER NOT NULL, start INTEGER NOT NULL, end_ INTEGER NOT NULL, data TEXT NOT NULL)"
        )
        db.execute("CREATE INDEX chunks_source ON chunks (source, chunk)")
        db.execute("CREATE TABLE sources (source TEXT PRIMARY KEY, data TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((i, c.id, c.source, c.chunk, c.start, c.end, c.model_dump_json()) for i, c in enumerate(chunks)),
        )
        db.executemany(
            "INSERT INTO sources VALUES (?, ?)", ((s.source, s.model_dump_json()) for s in sources.values())
        )
    db.close()
    np.save(folder / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32))
    if chunks:
        import bm25s

        bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        bm25.index(bm25_terms([c.text for c in chunks]), show_progress=False)
        bm25.save(str(folder / BM25_DIR), show_progress=False)
    _fsync_tree(folder)
    tmp = folder / (META + ".tmp")
    tmp.write_text(json.dumps({**meta, "count": len(chunks)}, indent=1), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, folder / META)


class Generation:
    """A read-only view of one complete generation; arrays are loaded once, chunk records on demand."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
        # immutable=1: the file never changes after it is written, so SQLite skips locking entirely.
        self._db = sqlite3.connect(
            f"file:{folder / STORE}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        self._db_lock = threading.Lock()
        rows = self._db.execute("SELECT id, source, start, end_ FROM chunks ORDER BY pos").fetchall()
        self.ids: list[str] = [r[0] for r in rows]
        self.pos_of: dict[str, int] = {cid: i for i, cid in enumerate(self.ids)}
        names: dict[str, int] = {}
        self.source_ix = np.array([names.setdefault(r[1], len(names)) for r in rows], dtype=np.int32)
        self.spans = np.array([(r[2], r[3]) for r in rows], dtype=np.int64).reshape(len(rows), 2)
        # Memory-mapped: MMR needs vectors for BM25-only candidates too, without a Chroma round trip.
        self.vectors: np.ndarray = (
            np.load(folder / VECTORS, mmap_mode="r") if rows else np.zeros((0, 384), np.float32)
        )
        self._bm25: Any = None

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def embedder(self) -> str:
        return str(self.meta.get("embedder", ""))

    @property
    def collection(self) -> str:
        return str(self.meta["collection"])

    def load_bm25(self) -> None:
        """Load the BM25 index now (searchers do it up front, so a later GC cannot pull it away)."""
        if self._bm25 is None and self.ids:
            import bm25s

            self._bm25 = bm25s.BM25.load(str(self.folder / BM25_DIR), show_progress=False)

    def bm25_top(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the best `n` BM25 matches with a positive score, best first."""
        self.load_bm25()
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        if self._bm25 is None:
            return empty
        vocab = self._bm25.vocab_dict
        term_ids = [vocab[t] for t in bm25_terms([query])[0] if t and t in vocab]
        if not term_ids:
            return empty
        scores = self._bm25.get_scores_from_ids(term_ids)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top, scores[top]

    def chunks_at(self, positions: list[int]) -> list[Chunk]:
        """The chunk records at `positions`, in that order."""
        if not positions:
            return []
        marks = ",".join("?" * len(positions))
        with self._db_lock:
            rows = self._db.execute(
                f"SELECT pos, data FROM chunks WHERE pos IN ({marks})", [int(p) for p in positions]
            ).fetchall()
        by_pos = {pos: data for pos, data in rows}
        return [Chunk.model_validate_json(by_pos[int(p)]) for p in positions]

    def chunks_for(self, source: str) -> list[Chunk]:
        with self._db_lock:
            rows = self._db.execute(
                "SELECT data FROM chunks WHERE source = ? ORDER BY chunk", (source,)
            ).fetchall()
        return [Chunk.model_validate_json(r[0]) for r in rows]

    def ids_for(self, source: str) -> list[str]:
        with self._db_lock:
            rows = self._db.execute(
                "SELECT id FROM chunks WHERE source = ? ORDER BY chunk", (source,)
            ).fetchall()
        return [r[0] for r in rows]

    def sources(self) -> dict[str, SourceInfo]:
        with self._db_lock:
            rows = self._db.execute("SELECT data FROM sources ORDER BY source").fetchall()
        infos = (SourceInfo.model_validate_json(r[0]) for r in rows)
        return {s.source: s for s in infos}

    def close(self) -> None:
        with self._db_lock:
            self._db.close()
