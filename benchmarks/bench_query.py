"""Query latency of hybrid search at 1k, 10k and 100k chunks, beside raw Chroma and raw BM25 on the same data.

Chunks are synthetic: texts sampled (Zipf) from the vocabulary of corpus/*.md and RANDOM UNIT VECTORS inserted
as precomputed embeddings (no model at build time). Query vectors are random too for the like-for-like
comparison; the end-to-end figures embed the query with the real MiniLM model. Each size is built in one
subprocess and queried in another, so each phase reports its own peak RSS.
The "corpus" phase indexes the bundled corpus with MiniLM and times query embedding before (onnxruntime's
default session, the batch path) and after (tuned session, single-text path, LRU cache) in the same run,
interleaved, plus hybrid search end to end. Prints one JSON object.
  .venv/bin/python benchmarks/bench_query.py [--quick] [--sizes 1000,10000] [--corpus-only]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, emit, machine, ms_stats, peak_rss_mb, run_phase

PER_SOURCE = 100  # chunks per synthetic source file
BLOCK = 20  # queries timed per variant in a row in the embedding comparison
K = 4  # hits asked for, as the coach does; hybrid fetches max(20, 4k) candidates per retriever


def vocabulary() -> list[str]:
    words = re.findall(
        r"[a-z]{3,}",
        " ".join(p.read_text(encoding="utf-8").lower() for p in sorted((ROOT / "corpus").glob("*.md"))),
    )
    return sorted(set(words))


def synthetic_texts(n: int, seed: int, low: int, high: int) -> list[str]:
    """`n` texts of low..high words drawn Zipf-like, so BM25 sees realistic term statistics."""
    vocab = np.array(vocabulary())
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    ranks = rng.permutation(len(vocab))  # which word is common is arbitrary, not alphabetical
    lengths = rng.integers(low, high + 1, size=n)
    draws = ranks[rng.choice(len(vocab), size=int(lengths.sum()), p=weights)].astype(np.int32)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    words = vocab.tolist()  # indexing a list per text: a fixed-width array of every word took ~1 GB at 100k
    return [" ".join([words[w] for w in draws[bounds[i] : bounds[i + 1]]]) + f" note{i}" for i in range(n)]


def unit_vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def phase_build(size: int, home: Path) -> dict:
    """Insert `size` synthetic chunks with precomputed vectors through Index.apply (one generation)."""
    import agent.index.generations as index_mod
    from agent.core.settings import load_settings
    from agent.core.types import Chunk
    from agent.index.embeddings import MiniLMEmbedder

    texts = synthetic_texts(size, seed=1, low=120, high=180)
    row = {t: i for i, t in enumerate(texts)}
    vectors = unit_vectors(size, seed=2)

    class Precomputed:
        """Looks vectors up instead of running the model; named as MiniLM so queries can use the real one."""

        name, dim = MiniLMEmbedder.name, 384

        def embed(self, batch: list[str]) -> np.ndarray:
            return vectors[[row[t] for t in batch]]

    index_mod.get_embedder = lambda _settings: Precomputed()
    upserts: dict = {}
    for start in range(0, size, PER_SOURCE):
        source = f"synthetic-{start // PER_SOURCE:05d}.md"
        chunks, offset = [], 0
        for n, text in enumerate(texts[start : start + PER_SOURCE]):
            chunks.append(
                Chunk(
                    id=f"{source}#{hashlib.sha256(text.encode()).hexdigest()[:12]}-{n}",
                    source=source,
                    title=source,
                    text=text,
                    chunk=n,
                    start=offset,
                    end=offset + len(text),
                )
            )
            offset += len(text) + 2
        upserts[source] = (hashlib.sha256(source.encode()).hexdigest(), chunks)
    settings = load_settings(home=home, embedder="minilm", chroma_url="", index_bundled_corpus=False)
    inputs_mb = peak_rss_mb()  # the synthetic chunks and vectors themselves, held by this script
    started = time.perf_counter()
    index_mod.Index.open(settings).apply(upserts)
    peak = peak_rss_mb()
    return {
        "build_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": peak,
        "rss_before_apply_mb": inputs_mb,
        "apply_growth_mb": round(peak - inputs_mb, 1),
    }


def phase_query(size: int, home: Path, n_queries: int) -> dict:
    """Time raw Chroma, raw BM25 and hybrid search per query, interleaved so load hits all three alike."""
    from agent.core.settings import load_settings
    from agent.index.generation import bm25_terms
    from agent.index.generations import Index
    from agent.index.retrieval import HybridSearcher, candidate_count

    settings = load_settings(home=home, embedder="minilm", chroma_url="", index_bundled_corpus=False)
    started = time.perf_counter()
    searcher = HybridSearcher(Index.open(settings, create=False), settings)
    gen = searcher.index.generation
    collection = searcher.index.collection(gen, searcher.embedder)
    open_s = time.perf_counter() - started
    import bm25s

    bm25 = bm25s.BM25.load(str(gen.folder / "bm25"), show_progress=False)  # the raw baseline: bm25s itself
    n = candidate_count(K)
    queries = synthetic_texts(n_queries, seed=3, low=5, high=12)
    qvecs = unit_vectors(n_queries, seed=4)
    timings: dict[str, list[float]] = {"raw_chroma": [], "raw_bm25": [], "hybrid": []}

    def raw_chroma(i: int) -> None:
        collection.query(query_embeddings=qvecs[i][None, :], n_results=n, include=["distances"])

    def raw_bm25(i: int) -> None:
        bm25.retrieve(bm25_terms([queries[i]]), k=n, show_progress=False, n_threads=0)

    def hybrid(i: int) -> None:
        searcher.search(queries[i], k=K, query_vector=qvecs[i])

    calls = {"raw_chroma": raw_chroma, "raw_bm25": raw_bm25, "hybrid": hybrid}
    for i in range(min(10, n_queries)):  # warm-up: first-touch page faults, lazy imports
        for fn in calls.values():
            fn(i)
    for i in range(n_queries):
        for name in list(calls) if i % 2 else list(reversed(calls)):
            t = time.perf_counter()
            calls[name](i)
            timings[name].append(time.perf_counter() - t)
    stats = {name: ms_stats(ts) for name, ts in timings.items()}
    raw_sum = stats["raw_chroma"]["p95_ms"] + stats["raw_bm25"]["p95_ms"]

    searcher.embedder.embed(["warm up the model"])
    embed_t, e2e_t = [], []
    for q in queries[: min(60, n_queries)]:
        searcher.embedder.cache.clear()
        t = time.perf_counter()
        searcher.embedder.embed_query(q)
        embed_t.append(time.perf_counter() - t)
        searcher.embedder.cache.clear()  # the end-to-end figure embeds the query too
        t = time.perf_counter()
        searcher.search(q, k=K)
        e2e_t.append(time.perf_counter() - t)
    return {
        **stats,
        "hybrid_p95_over_raw_sum": round(stats["hybrid"]["p95_ms"] / raw_sum, 3),
        "query_embedding_minilm": ms_stats(embed_t),
        "hybrid_end_to_end_with_minilm": ms_stats(e2e_t),
        "open_searcher_s": round(open_s, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_corpus(home: Path, n_queries: int) -> dict:
    """Query embedding before/after (cold, warm, cached) and hybrid end to end on the bundled corpus."""
    import yaml

    from agent.core.resources import evals_dir
    from agent.core.settings import load_settings
    from agent.index.embeddings import MiniLMEmbedder
    from agent.ingest.bundled import open_searcher

    load_before = round(__import__("os").getloadavg()[0], 2)
    settings = load_settings(home=home, embedder="minilm", chroma_url="", index_bundled_corpus=True)
    started = time.perf_counter()
    searcher = open_searcher(settings)
    ingest_s = time.perf_counter() - started
    asked = yaml.safe_load((evals_dir() / "retrieval" / "questions.yaml").read_text(encoding="utf-8"))
    queries = [q["q"] for q in asked["questions"]]
    queries += synthetic_texts(max(0, n_queries - len(queries)), seed=5, low=5, high=25)
    queries = list(dict.fromkeys(queries))[:n_queries]  # distinct: the first pass never hits the cache

    variants = {
        "before_default_session_batch_path": (MiniLMEmbedder(tuned=False), "embed"),
        "after_tuned_single_path": (MiniLMEmbedder(), "embed_query"),
        "after_one_thread_single_path": (MiniLMEmbedder(threads=1), "embed_query"),
    }
    cold: dict[str, float] = {}
    for name, (emb, method) in variants.items():
        t = time.perf_counter()
        emb.embed(["cold start"]) if method == "embed" else emb.embed_query("cold start")
        cold[name] = round((time.perf_counter() - t) * 1000, 1)
    warm: dict[str, list[float]] = {name: [] for name in variants}
    cached: dict[str, list[float]] = {name: [] for name in variants if variants[name][1] == "embed_query"}
    # Blocks of queries per variant, the order rotating per block: load drift hits every variant alike,
    # and a variant is not timed right after another session evicted its weights from the CPU caches
    # (query by query interleaving made every variant 3x slower than it is in a real process).
    for b, first in enumerate(range(0, len(queries), BLOCK)):
        names = list(variants)[b % len(variants) :] + list(variants)[: b % len(variants)]
        for name in names:
            emb, method = variants[name]
            for q in queries[first : first + BLOCK]:
                t = time.perf_counter()
                emb.embed([q]) if method == "embed" else emb.embed_query(q)
                warm[name].append(time.perf_counter() - t)
    for q in queries:
        for name, times in cached.items():
            t = time.perf_counter()
            variants[name][0].embed_query(q)
            times.append(time.perf_counter() - t)

    searcher.embedder.cache.clear()
    e2e_uncached, e2e_cached, search_only = [], [], []
    vectors = variants["after_tuned_single_path"][0].embed([q for q in queries])
    for i, q in enumerate(queries):
        t = time.perf_counter()
        searcher.search(q, k=K)
        e2e_uncached.append(time.perf_counter() - t)
        t = time.perf_counter()
        searcher.search(q, k=K, query_vector=vectors[i])
        search_only.append(time.perf_counter() - t)
    for q in queries:
        t = time.perf_counter()
        searcher.search(q, k=K)
        e2e_cached.append(time.perf_counter() - t)
    e2e = ms_stats(e2e_uncached)
    return {
        "chunks": searcher.index.count(),
        "queries": len(queries),
        "ingest_s": round(ingest_s, 1),
        "query_embedding": {
            "cold_first_query_ms_incl_model_load": cold,
            "warm_uncached": {name: ms_stats(ts) for name, ts in warm.items()},
            "cached": {name: ms_stats(ts) for name, ts in cached.items()},
        },
        "hybrid_search_without_embedding": ms_stats(search_only),
        "hybrid_end_to_end_uncached": e2e,
        "hybrid_end_to_end_cached": ms_stats(e2e_cached),
        "goal_e2e_p95_under_40ms": {"p95_ms": e2e["p95_ms"], "met": e2e["p95_ms"] < 40},
        "loadavg_1m_before_after": [load_before, round(__import__("os").getloadavg()[0], 2)],
        "peak_rss_mb": peak_rss_mb(),
    }


def growth(results: dict) -> dict:
    """Log-log slopes over the sizes: 1.0 is linear growth, 0 constant (build = ingest with precomputed vectors)."""
    if len(results) < 2:
        return {}
    sizes = np.log([int(s) for s in results])

    def slope(values: list[float]) -> float:
        return round(float(np.polyfit(sizes, np.log(np.maximum(values, 1e-9)), 1)[0]), 3)

    return {
        "ingest_build_s (precomputed vectors)": slope([r["build"]["build_s"] for r in results.values()]),
        "hybrid_query_p50_ms": slope([r["hybrid"]["p50_ms"] for r in results.values()]),
        "hybrid_end_to_end_p50_ms": slope([r["hybrid_end_to_end_with_minilm"]["p50_ms"] for r in results.values()]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer queries")
    parser.add_argument("--sizes", default="")
    parser.add_argument("--queries", type=int, default=0)
    parser.add_argument("--corpus-only", action="store_true", help="only the bundled-corpus phase")
    parser.add_argument("--phase", choices=["build", "query", "corpus"])
    parser.add_argument("--size", type=int)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    if args.phase == "build":
        emit(phase_build(args.size, args.home), compact=True)
        return
    if args.phase == "query":
        emit(phase_query(args.size, args.home, args.queries), compact=True)
        return
    if args.phase == "corpus":
        emit(phase_corpus(args.home, args.queries), compact=True)
        return
    sizes = (
        []
        if args.corpus_only
        else [int(s) for s in args.sizes.split(",") if s]
        or ([1000, 10000] if args.quick else [1000, 10000, 100000])
    )
    n_queries = args.queries or (100 if args.quick else 300)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-query-corpus-") as home:
        corpus = run_phase(
            Path(__file__), "--phase", "corpus", "--home", home, "--queries", str(min(n_queries, 100))
        )
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-query-{size}-") as home:
            build = run_phase(Path(__file__), "--phase", "build", "--size", str(size), "--home", home)
            query = run_phase(
                Path(__file__),
                "--phase",
                "query",
                "--size",
                str(size),
                "--home",
                home,
                "--queries",
                str(n_queries),
            )
        results[str(size)] = {"build": build, **query}
    ten_k = results.get("10000")
    slopes = growth(results)
    emit(
        {
            "benchmark": "query",
            "k": K,
            "queries_per_size": n_queries,
            "data": "synthetic texts (Zipf over corpus vocabulary, 120-180 words) with random unit vectors "
            "inserted as precomputed embeddings; query vectors random for raw-vs-hybrid, real MiniLM "
            "for end-to-end",
            "raw_chroma": "collection.query(query_embeddings, n_results=20, include=['distances'])",
            "raw_bm25": "bm25s retrieve(k=20) with the same tokenizer",
            "bundled_corpus": corpus,
            "sizes": results,
            "loglog_slope_1k_to_100k": slopes,
            "goal_10k": None
            if ten_k is None
            else {
                "hybrid_p95_ms": ten_k["hybrid"]["p95_ms"],
                "under_50ms": ten_k["hybrid"]["p95_ms"] < 50,
                "within_1_5x_raw_sum": ten_k["hybrid_p95_over_raw_sum"] <= 1.5,
            },
            "loadavg_1m_before": round(load_before, 2),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
