"""One index generation on disk: chunk store + source manifest (SQLite), vectors (.npy) and BM25 (bm25s).

Reading lives here; agent.index.generation_writer writes a generation folder.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from agent.core.errors import IndexMissing
from agent.core.types import Chunk

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


class GenerationDamaged(IndexMissing):
    """A generation folder that is missing, incomplete or unreadable; `reason` says which part."""

    def __init__(self, folder: Path, reason: str) -> None:
        self.folder, self.reason = folder, reason
        super().__init__(
            f"index at {folder.parent.parent} is damaged (generation {folder.name}: {reason}); "
            "run `coach doctor --repair`"
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{Path(exc.filename or '?').name} is missing"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]


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
    from agent.index.bm25_lite import tokenize  # bm25s.tokenize's result without importing bm25s

    stem = _cached_stem  # words repeat (Zipf): a dict hit beats the suffix loop, 1.5x faster on 5k chunks
    return [[stem(t) for t in doc] for doc in tokenize(texts)]


_cached_stem = lru_cache(maxsize=1 << 18)(light_stem)


class Generation:
    """A read-only view of one complete generation; arrays are loaded once, chunk records on demand."""

    def __init__(self, folder: Path) -> None:
        """Load the generation in `folder`; raises GenerationDamaged when any part is missing or unreadable."""
        self.folder = folder
        self.name = folder.name
        self._bm25: Any = None
        if not folder.is_dir():
            raise GenerationDamaged(folder, "its folder is missing")
        try:
            self._load(folder)
        except sqlite3.Error as exc:
            raise GenerationDamaged(folder, f"{STORE}: {_reason(exc)}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GenerationDamaged(folder, _reason(exc)) from None

    def _load(self, folder: Path) -> None:
        try:
            self.meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
        except ValueError:
            raise ValueError(f"{META} is not valid JSON") from None
        if not isinstance(self.meta, dict) or "collection" not in self.meta:
            raise ValueError(f"{META} names no collection")
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
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(rows):
            raise ValueError(f"{VECTORS} holds {self.vectors.shape[0]} vectors for {len(rows)} chunks")
        if rows and not (folder / BM25_DIR).is_dir():
            raise FileNotFoundError(2, "missing", str(folder / BM25_DIR))

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
            # bm25s's own loader imports scipy (0.12 s); these are its files, read with numpy
            from agent.index.bm25_lite import BM25Index

            try:
                self._bm25 = BM25Index(self.folder / BM25_DIR)
            except Exception as exc:  # noqa: BLE001 - a damaged bm25s folder fails in many ways
                raise GenerationDamaged(self.folder, f"BM25 index does not load: {_reason(exc)}") from None

    def bm25_top(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions and scores of the best `n` BM25 matches with a positive score, best first."""
        self.load_bm25()
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        if self._bm25 is None:
            return empty
        vocab = self._bm25.vocab
        term_ids = [vocab[t] for t in bm25_terms([query])[0] if t and t in vocab]
        if not term_ids:
            return empty
        scores = self._bm25.scores(term_ids)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return top, scores[top]

    def _rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._db_lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise GenerationDamaged(self.folder, f"{STORE}: {_reason(exc)}") from None

    def chunks_at(self, positions: list[int]) -> list[Chunk]:
        """The chunk records at `positions`, in that order."""
        if not positions:
            return []
        marks = ",".join("?" * len(positions))
        rows = self._rows(f"SELECT pos, data FROM chunks WHERE pos IN ({marks})", [int(p) for p in positions])
        by_pos = {pos: data for pos, data in rows}
        return [Chunk.model_validate_json(by_pos[int(p)]) for p in positions]

    def chunks_for(self, source: str) -> list[Chunk]:
        rows = self._rows("SELECT data FROM chunks WHERE source = ? ORDER BY chunk", (source,))
        return [Chunk.model_validate_json(r[0]) for r in rows]

    def ids_for(self, source: str) -> list[str]:
        rows = self._rows("SELECT id FROM chunks WHERE source = ? ORDER BY chunk", (source,))
        return [r[0] for r in rows]

    def sources(self) -> dict[str, SourceInfo]:
        rows = self._rows("SELECT data FROM sources ORDER BY source")
        infos = (SourceInfo.model_validate_json(r[0]) for r in rows)
        return {s.source: s for s in infos}

    def close(self) -> None:
        with self._db_lock:
            self._db.close()
