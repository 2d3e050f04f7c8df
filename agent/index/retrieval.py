"""Hybrid search: dense (Chroma) + BM25 fused by reciprocal rank fusion, then MMR against near-duplicates."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from agent.core.errors import ConfigError, IndexMissing
from agent.core.types import Hit
from agent.index.chroma_link import REPAIR_HINT
from agent.index.embeddings import embed_query, get_embedder
from agent.index.generation import Generation
from agent.index.generations import Index

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")
RRF_K = 60
RRF_WEIGHTS = (1.0, 1.0)  # (dense, bm25)
# In MMR a second passage from an already picked source counts as this similar to it (1.0: like a near-copy),
# so the top k spread over articles unless one article is far more relevant. It lifted seed hit@3 from
# 0.905 to 0.952 and left the corpus notes' hit@3 as it was (evals/retrieval, see the retrieval eval).
SAME_SOURCE_SIM = 1.0
MMR_LAMBDA = 0.7
SPAN_OVERLAP = 0.5  # a chunk sharing more than this share of its span with a picked one adds nothing
# Up to this many chunks an embedded index answers the dense query from the generation's own vectors.npy (the
# same float32 rows Chroma holds): an exact scan beat Chroma's query below it (benchmarks/bench_query.py) and
# needs no `import chromadb`, which alone cost 0.8 s of a 2.4 s `coach ask`. Above it, and with a Chroma
# server, Chroma's HNSW answers.
EXACT_MAX = 50_000


def candidate_count(k: int) -> int:
    return max(20, 4 * k)


def rrf(
    rankings: list[np.ndarray], k: int = RRF_K, weights: list[float] | tuple[float, ...] | None = None
) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds weight / (k + rank) for the items it ranks (rank from 1)."""
    fused: dict[int, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        for rank, pos in enumerate(ranking.tolist(), start=1):
            fused[pos] = fused.get(pos, 0.0) + weight / (k + rank)
    return fused


def mmr(
    relevance: np.ndarray,
    vectors: np.ndarray,
    k: int,
    lam: float = MMR_LAMBDA,
    blocked: np.ndarray | None = None,
    floor: np.ndarray | None = None,
) -> list[int]:
    """Pick `k` indices greedily by lam*relevance - (1-lam)*max similarity to the picked; never a blocked pair."""
    # relevance is scaled to [0, 1] by its maximum; blocked[i, j] marks pairs that may not both be picked;
    # floor[i, j] is a least similarity for a pair (same source), whatever their vectors say.
    n = len(relevance)
    if n == 0:
        return []
    rel = relevance / max(float(relevance.max()), 1e-12)
    max_sim = np.zeros(n, dtype=np.float32)
    alive = np.ones(n, dtype=bool)
    picked: list[int] = []
    while len(picked) < k and alive.any():
        score = lam * rel - (1 - lam) * np.maximum(max_sim, 0.0)
        score[~alive] = -np.inf
        best = int(np.argmax(score))
        picked.append(best)
        alive[best] = False
        if blocked is not None:
            alive &= ~blocked[best]
        # One matrix-vector product per pick: a full n x n matmul goes multi-threaded in BLAS and costs
        # milliseconds on a busy machine; k gemv calls cost microseconds.
        sim = vectors @ vectors[best]
        max_sim = np.maximum(max_sim, sim if floor is None else np.maximum(sim, floor[best]))
    return picked


def span_overlaps(gen: Generation, positions: np.ndarray) -> np.ndarray:
    """Pairs of candidates from one source whose spans overlap by more than SPAN_OVERLAP of the shorter."""
    src = gen.source_ix[positions]
    spans = gen.spans[positions]
    lo = np.maximum(spans[:, None, 0], spans[None, :, 0])
    hi = np.minimum(spans[:, None, 1], spans[None, :, 1])
    length = spans[:, 1] - spans[:, 0]
    shorter = np.maximum(np.minimum(length[:, None], length[None, :]), 1)
    return (src[:, None] == src[None, :]) & ((hi - lo) / shorter > SPAN_OVERLAP)


def exact_top(vectors: np.ndarray, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and cosine similarities of the n nearest rows of L2-normalised `vectors`, best first."""
    sims = np.asarray(vectors @ np.asarray(vector, dtype=np.float32), dtype=np.float32)
    n = min(n, len(sims))
    if n <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
    top = top[np.argsort(-sims[top], kind="stable")].astype(np.int64)
    return top, sims[top]


class HybridSearcher:
    """Searches one index; follows its CURRENT generation between queries."""

    def __init__(
        self,
        index: Index,
        settings: Any,
        mode: Mode = "hybrid",
        mmr_lambda: float = MMR_LAMBDA,
        rrf_k: int = RRF_K,
        weights: tuple[float, float] = RRF_WEIGHTS,
        same_source_sim: float = SAME_SOURCE_SIM,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        self.index = index
        self.settings = settings
        self.mode = mode
        self.mmr_lambda = mmr_lambda
        self.rrf_k = rrf_k
        self.weights = weights
        self.same_source_sim = same_source_sim
        self.embedder = get_embedder(settings)
        self._prepare()

    def _prepare(self) -> None:
        gen = self.index.generation
        if gen is not None and gen.count:
            if gen.embedder != self.embedder.name:
                raise ConfigError(
                    f"index at {self.index.root} was built with embedder {gen.embedder!r}, not "
                    f"{self.embedder.name!r}; set COACH_EMBEDDER to match or re-ingest"
                )
            gen.load_bm25()

    def uses_chroma(self, gen: Generation) -> bool:
        """True when dense queries go to Chroma: a Chroma server, or more chunks than an exact scan serves well."""
        return bool(getattr(self.settings, "chroma_url", "")) or gen.count > EXACT_MAX

    def warm(self) -> None:
        """Load the embedding model, the Chroma collection and BM25 now, so the first search is not the slow one."""
        self.embedder.embed(["warm up"])
        gen = self.index.generation
        if gen is not None and gen.count and self.uses_chroma(gen):
            with self.index.chroma_guard():
                self.index.collection(gen, self.embedder)

    def search(
        self, query: str, k: int = 4, mode: Mode | None = None, query_vector: np.ndarray | None = None
    ) -> list[Hit]:
        """The best `k` chunks for `query`, best first; query_vector skips embedding (benchmarks, evals)."""
        mode = mode or self.mode
        if mode not in MODES:
            raise ConfigError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        if k < 1 or not query.strip():
            return []
        for attempt in range(2):
            if self.index.refresh():
                self._prepare()
            gen = self.index.generation
            if gen is None or gen.count == 0:
                return []
            try:
                return self._search(gen, query, k, mode, query_vector)
            except IndexMissing:
                # A writer two generations on may have collected this one: follow CURRENT, retry once.
                self.index.forget_collection(gen.name)
                if attempt or self.index.current_name() == gen.name:
                    raise
        return []

    def _search(
        self, gen: Generation, query: str, k: int, mode: str, query_vector: np.ndarray | None
    ) -> list[Hit]:
        n = min(candidate_count(k), gen.count)
        dense_pos, dense_sim = np.zeros(0, np.int64), np.zeros(0, np.float32)
        sparse_pos, sparse_score = np.zeros(0, np.int64), np.zeros(0, np.float32)
        if mode != "bm25":
            if query_vector is None:
                query_vector = embed_query(self.embedder, query)
            dense_pos, dense_sim = self._dense(gen, query_vector, n)
        if mode != "dense":
            sparse_pos, sparse_score = gen.bm25_top(query, n)
        if mode == "hybrid":
            fused = rrf([dense_pos, sparse_pos], self.rrf_k, self.weights)
            positions = np.fromiter(fused, dtype=np.int64, count=len(fused))
            scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        elif mode == "dense":
            positions, scores = dense_pos, dense_sim.astype(np.float64)
        else:
            positions, scores = sparse_pos, sparse_score.astype(np.float64)
        if len(positions) == 0:
            return []
        order = np.argsort(-scores, kind="stable")
        positions, scores = positions[order], scores[order]
        vectors = np.asarray(gen.vectors[positions], dtype=np.float32)
        # For the bm25 mode too: relevance must be positive for MMR's scaling, and bm25 scores are.
        src = gen.source_ix[positions]
        floor = (
            (src[:, None] == src[None, :]) * np.float32(self.same_source_sim)
            if self.same_source_sim
            else None
        )
        picked = mmr(
            np.maximum(scores, 0.0) + 1e-9, vectors, k, self.mmr_lambda, span_overlaps(gen, positions), floor
        )
        chosen = positions[picked]
        dense_rank = {int(p): r for r, p in enumerate(dense_pos.tolist(), start=1)}
        sparse_rank = {int(p): r for r, p in enumerate(sparse_pos.tolist(), start=1)}
        return [
            Hit(
                chunk=chunk,
                score=float(scores[i]),
                dense_rank=dense_rank.get(int(p)),
                sparse_rank=sparse_rank.get(int(p)),
            )
            for i, p, chunk in zip(picked, chosen, gen.chunks_at(chosen.tolist()), strict=True)
        ]

    def _dense(self, gen: Generation, vector: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-n positions by cosine similarity: an exact scan of the stored vectors, or Chroma's collection."""
        if not self.uses_chroma(gen):
            return exact_top(gen.vectors, vector, n)
        from chromadb.errors import NotFoundError

        collection = self.index.collection(gen, self.embedder)
        try:
            with self.index.chroma_guard():
                res = collection.query(query_embeddings=vector[None, :], n_results=n, include=["distances"])
        except NotFoundError:
            raise IndexMissing(
                f"index at {self.index.root}: Chroma collection {gen.collection} is missing; {REPAIR_HINT}"
            ) from None
        ids, dist = res["ids"][0], res["distances"][0]
        pos = [gen.pos_of.get(i, -1) for i in ids]
        keep = [j for j, p in enumerate(pos) if p >= 0]
        return (
            np.array([pos[j] for j in keep], dtype=np.int64),
            1.0 - np.array([dist[j] for j in keep], dtype=np.float32),
        )


def __getattr__(name: str) -> Any:
    # langchain_core costs ~1.5 s to import: build the LangChain adapter only when someone asks for it.
    if name == "CoachRetriever":
        from agent.index.retriever_lc import CoachRetriever

        return CoachRetriever
    raise AttributeError(name)
