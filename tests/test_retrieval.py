"""Hybrid search: fusion, MMR, modes, the bundled-corpus bootstrap and the LangChain retriever."""

from __future__ import annotations

import numpy as np
import pytest

from agent.core.errors import ConfigError
from agent.core.settings import load_settings
from agent.core.types import Chunk
from agent.index import retrieval
from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher, mmr, rrf
from agent.ingest.bundled import open_searcher
from tests.index_cases import DELEGATION, FEEDBACK, PEERS, make_chunks, upsert


@pytest.fixture
def settings():
    return load_settings(index_bundled_corpus=False)


@pytest.fixture
def searcher(settings):
    index = Index.open(settings)
    index.apply(
        {
            **upsert("delegation.md", DELEGATION),
            **upsert("feedback.md", FEEDBACK),
            **upsert("peers.md", PEERS),
        }
    )
    return HybridSearcher(index, settings)


def test_rrf_adds_reciprocal_ranks_across_lists():
    fused = rrf([np.array([7, 3]), np.array([3, 9])], k=60)
    assert fused[3] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[7] == pytest.approx(1 / 61) and fused[9] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == 3


def test_mmr_skips_a_near_duplicate_for_a_different_good_candidate():
    vecs = np.array([[1, 0, 0], [0.999, 0.045, 0], [0, 1, 0]], dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    relevance = np.array([1.0, 0.98, 0.9])
    assert mmr(relevance, vecs, 2, lam=0.7) == [0, 2]
    assert mmr(relevance, vecs, 3, lam=1.0) == [0, 1, 2]  # lambda 1 is plain relevance order


def test_mmr_never_picks_a_blocked_pair():
    vecs = np.eye(3, dtype=np.float32)
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[0, 1] = blocked[1, 0] = True
    assert mmr(np.array([1.0, 0.9, 0.1]), vecs, 3, blocked=blocked) == [0, 2]


def test_hybrid_hit_carries_fused_score_and_both_ranks(searcher):
    hits = searcher.search("who is the bottleneck when a manager keeps every decision", k=3)
    top = hits[0]
    assert (top.chunk.source, top.chunk.chunk) == ("delegation.md", 1)
    assert top.dense_rank == 1 and top.sparse_rank == 1
    assert top.score == pytest.approx(2 / 61)
    assert len(hits) == 3 and len({h.chunk.id for h in hits}) == 3


def test_modes_rank_by_their_own_signal(searcher):
    dense = searcher.search("specific feedback names the behaviour", k=2, mode="dense")
    sparse = searcher.search("specific feedback names the behaviour", k=2, mode="bm25")
    assert dense[0].chunk.source == sparse[0].chunk.source == "feedback.md"
    assert all(h.sparse_rank is None for h in dense) and all(h.dense_rank is None for h in sparse)
    assert 0 < dense[0].score <= 1.0 + 1e-6  # cosine similarity
    assert searcher.search("zzzz qqqq", k=2, mode="bm25") == []  # no shared term, no BM25 hit
    with pytest.raises(ConfigError, match="unknown search mode"):
        searcher.search("x", mode="fuzzy")


def test_blank_query_or_zero_k_returns_nothing(searcher):
    assert searcher.search("   ", k=3) == []
    assert searcher.search("feedback", k=0) == []


def test_k_larger_than_the_index_returns_every_chunk_once(searcher):
    hits = searcher.search("feedback", k=50)
    assert len(hits) == 6 and len({h.chunk.id for h in hits}) == 6


def test_copies_of_one_passage_do_not_crowd_the_top(settings):
    twin = "Radical ownership means you own your half of every peer relationship."
    index = Index.open(settings)
    index.apply(
        {
            **upsert("a.md", [twin]),
            **upsert("b.md", [twin]),
            **upsert("feedback.md", FEEDBACK),
            **upsert("peers.md", PEERS + ["Ownership of a relationship with a peer starts with you."]),
        }
    )
    hits = HybridSearcher(index, settings).search("radical ownership of peer relationships", k=2)
    assert sum(h.chunk.text == twin for h in hits) == 1


def test_heavily_overlapping_spans_of_one_source_count_once(settings):
    text = "Listening means hearing the feeling behind the words. " * 3
    a = Chunk(id="l.md#a-0", source="l.md", title="L", text=text, chunk=0, start=0, end=len(text))
    b = a.model_copy(
        update={
            "id": "l.md#b-1",
            "chunk": 1,
            "start": 10,
            "end": len(text) + 10,
            "text": text[10:] + "Listening.",
        }
    )
    index = Index.open(settings)
    index.apply({"l.md": ("sha", [a, b]), **upsert("feedback.md", FEEDBACK)})
    hits = HybridSearcher(index, settings).search("listening to the feeling behind words", k=3)
    assert [h.chunk.source for h in hits].count("l.md") == 1


def test_open_searcher_indexes_the_bundled_corpus_once():
    from agent.core.resources import corpus_dir
    from agent.ingest.pipeline import collect_files

    settings = load_settings()
    searcher = open_searcher(settings)
    names = {p.name for p in collect_files([corpus_dir()])[0]}  # the ingest rules decide which files count
    assert len(names) >= 20 and set(searcher.index.sources()) == names
    hits = searcher.search("sponsors and anti-sponsors among peers", k=3)
    assert hits and all(h.chunk.source in names for h in hits)
    generation = searcher.index.current_name()
    assert open_searcher(settings).index.current_name() == generation  # no second ingest


def test_open_searcher_leaves_an_empty_index_empty_when_told(settings):
    searcher = open_searcher(settings)
    assert searcher.index.sources() == {} and searcher.search("peers") == []


def test_langchain_retriever_returns_documents_with_citation_metadata(searcher):
    from agent.index.retrieval import CoachRetriever

    docs = CoachRetriever(searcher=searcher, k=2).invoke("sponsors speak up for you")
    assert len(docs) == 2
    top = docs[0]
    assert top.page_content == PEERS[0]
    assert set(top.metadata) == {"source", "title", "chunk", "start", "end", "score", "id", "link"}
    assert top.metadata["source"] == "peers.md" and top.metadata["chunk"] == 0
    assert top.metadata["id"] == make_chunks("peers.md", PEERS)[0].id


def test_mmr_floor_makes_same_source_pairs_redundant():
    vecs = np.eye(3, dtype=np.float32)  # all different by their vectors
    same = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=np.float32)
    relevance = np.array([1.0, 0.95, 0.8])
    assert mmr(relevance, vecs, 2) == [0, 1]
    assert mmr(relevance, vecs, 2, floor=same) == [0, 2]  # 0 and 1 share a source
    assert mmr(np.array([1.0, 0.95, 0.2]), vecs, 2, floor=same) == [0, 1]  # unless the other is far worse


def test_top_hits_spread_over_sources_unless_told_not_to(settings):
    index = Index.open(settings)
    index.apply(
        {
            **upsert("feedback.md", FEEDBACK + ["Feedback on feedback: ask how your feedback landed."]),
            **upsert("peers.md", PEERS + ["Peers notice whether your feedback to them is fair."]),
        }
    )
    spread = HybridSearcher(index, settings).search("feedback feedback", k=2)
    assert [h.chunk.source for h in spread] == ["feedback.md", "peers.md"]
    plain = HybridSearcher(index, settings, same_source_sim=0.0).search("feedback feedback", k=2)
    assert [h.chunk.source for h in plain] == ["feedback.md", "feedback.md"]


def test_warm_opens_the_collection_before_the_first_search(searcher, monkeypatch):
    monkeypatch.setattr(retrieval, "EXACT_MAX", 0)  # an index too big for the exact scan goes to Chroma
    gen = searcher.index.generation
    searcher.index.forget_collection(gen.name)
    searcher.warm()
    assert gen.name in searcher.index._collections


def test_a_small_embedded_index_is_searched_without_chroma(searcher):
    gen = searcher.index.generation
    searcher.index.forget_collection(gen.name)
    searcher.warm()
    hits = searcher.search("timely feedback", k=2, mode="dense")
    assert hits and gen.name not in searcher.index._collections


@pytest.mark.parametrize("query", ["timely feedback", "hand over the decision", "peers in finance", "zzz"])
def test_the_exact_scan_ranks_as_chroma_does(searcher, monkeypatch, query):
    gen = searcher.index.generation
    vector = searcher.embedder.embed_query(query)
    exact_pos, exact_sim = searcher._dense(gen, vector, gen.count)
    monkeypatch.setattr(retrieval, "EXACT_MAX", 0)
    chroma_pos, chroma_sim = searcher._dense(gen, vector, gen.count)
    assert sorted(exact_pos.tolist()) == sorted(chroma_pos.tolist())
    assert np.allclose(exact_sim, chroma_sim, atol=1e-5)  # the same order, up to ties
    by_chroma = dict(zip(chroma_pos.tolist(), chroma_sim.tolist()))
    assert all(abs(by_chroma[p] - s) < 1e-5 for p, s in zip(exact_pos.tolist(), exact_sim.tolist()))

