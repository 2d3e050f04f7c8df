"""Embedders: the deterministic hash fake, the real offline MiniLM, and the Chroma adapter."""

from __future__ import annotations

import numpy as np
import pytest

from agent.core.errors import ConfigError
from agent.core.settings import load_settings
from agent.index.embeddings import (
    DIM,
    HashEmbedder,
    MiniLMEmbedder,
    chroma_embedding_function,
    embedder_by_name,
    get_embedder,
)


def test_hash_embedder_is_deterministic_normalised_and_word_sensitive():
    emb = HashEmbedder()
    texts = ["Ask open questions", "ask OPEN questions!", "Quarterly revenue fell", ""]
    a, b = emb.embed(texts), HashEmbedder().embed(texts)
    assert a.shape == (4, DIM) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a[:3], axis=1), 1.0, atol=1e-6)
    assert not a[3].any()  # nothing to hash: a zero vector, not NaN
    assert a[0] @ a[1] == pytest.approx(1.0, abs=1e-6)  # case and punctuation do not matter
    assert abs(float(a[0] @ a[2])) < 0.3


def test_get_embedder_picks_by_setting_and_returns_one_instance_per_process():
    assert get_embedder(load_settings()) is get_embedder(load_settings(embedder="hash"))
    assert isinstance(get_embedder(load_settings(embedder="minilm")), MiniLMEmbedder)
    assert embedder_by_name("hash-ngram-384") is get_embedder("hash")
    with pytest.raises(ConfigError, match="unknown embedder"):
        get_embedder("word2vec")


def test_chroma_adapter_is_named_cosine_and_configless():
    ef = chroma_embedding_function(get_embedder("hash"))
    assert ef.name() == "socratic_coach_hash"
    assert ef.get_config() == {}
    assert ef.default_space() == "cosine"
    assert type(ef).build_from_config({}).name() == "socratic_coach_hash"
    out = ef(["peers decide promotions"])
    assert np.allclose(out[0], get_embedder("hash").embed(["peers decide promotions"])[0])
    from chromadb.utils.embedding_functions import known_embedding_functions

    assert known_embedding_functions["socratic_coach_minilm"].name() == "socratic_coach_minilm"


@pytest.fixture(scope="module")
def minilm():
    emb = get_embedder("minilm")
    emb.embed(["load"])
    return emb


def test_minilm_scores_paraphrases_above_unrelated_text(minilm):
    v = minilm.embed(
        [
            "How do I give feedback to my manager?",
            "Giving upward feedback to your boss",
            "A recipe for sourdough bread",
        ]
    )
    assert v.shape == (3, DIM)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2] + 0.3


def test_minilm_reads_up_to_256_tokens_and_pads_to_the_batch(minilm):
    long_text = " ".join(f"word{i}" for i in range(400))
    short = minilm._tokenizer.encode_batch(["short one", "a little longer sentence here"])
    assert len(short[0].ids) == len(short[1].ids) < 20  # padded to the batch's longest, not to 128
    assert len(minilm._tokenizer.encode(long_text).ids) == 256
    # Texts that differ only after token 140 still embed differently: nothing is cut at 128 tokens.
    base = " ".join(f"alpha{i}" for i in range(70))
    assert len(minilm._tokenizer.encode(base).ids) > 140
    a, b = minilm.embed([base + " sunshine beach holiday" * 10, base + " tax audit invoice" * 10])
    assert a @ b < 0.99


def test_minilm_batches_give_the_same_vectors_as_single_calls(minilm):
    texts = [f"note number {i} about delegation" for i in range(40)]
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts[30:33]])
    assert np.allclose(together[30:33], alone, atol=1e-4)
    assert minilm.embed([]).shape == (0, DIM)


def test_long_texts_go_in_smaller_batches_and_every_row_once():
    from agent.index.embeddings import BATCH, BATCH_BUDGET, _batches

    lengths = np.array([256] * 20 + [12] * 50 + [100] * 5)
    groups = _batches(lengths)
    rows = np.concatenate(groups)
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    for g in groups:
        assert len(g) <= BATCH and (len(g) == 1 or len(g) * int(lengths[g].max()) ** 2 <= BATCH_BUDGET)
    assert max(len(g) for g in groups if lengths[g].max() == 256) == 8
    assert max(len(g) for g in groups) == BATCH


def test_query_cache_is_lru_and_hands_out_read_only_vectors():
    from agent.index.embeddings import QueryCache

    cache = QueryCache(size=2)
    a = cache.put("a", np.ones(DIM, np.float32))
    cache.put("b", np.zeros(DIM, np.float32))
    assert cache.get("a") is a  # touching "a" makes "b" the oldest
    cache.put("c", np.ones(DIM, np.float32))
    assert cache.get("b") is None and cache.get("c") is not None and len(cache) == 2
    assert (cache.hits, cache.misses) == (2, 1)
    with pytest.raises(ValueError):
        a[0] = 5.0


def test_embed_query_helper_falls_back_to_embed_for_plain_embedders():
    from agent.index.embeddings import embed_query

    class Plain:
        name, dim = "plain", DIM

        def embed(self, texts):
            return np.full((len(texts), DIM), 0.5, np.float32)

    assert embed_query(Plain(), "anything").shape == (DIM,)
    hashed = get_embedder("hash")
    assert np.array_equal(embed_query(hashed, "peers decide"), hashed.embed(["peers decide"])[0])


def test_minilm_single_query_path_matches_the_batch_path_and_caches(minilm):
    queries = ["how do I delegate", "My peer keeps blocking my proposals in every planning meeting."]
    minilm.cache.clear()
    for q in queries:
        assert np.allclose(minilm.embed_query(q), minilm.embed([q])[0], atol=1e-5)
    again = minilm.embed_query("  how do   I delegate ")  # same tokens, so the same cached vector
    assert again is minilm.embed_query(queries[0]) and not again.flags.writeable
    assert minilm.cache.misses == 2 and minilm.cache.hits == 2


def test_search_embeds_the_query_through_the_cached_single_path(tmp_path):
    from agent.index.generations import Index
    from agent.index.retrieval import HybridSearcher
    from tests.index_cases import FEEDBACK, upsert

    settings = load_settings(index_bundled_corpus=False)
    index = Index.open(settings, tmp_path / "index")
    index.apply(upsert("feedback.md", FEEDBACK))
    searcher = HybridSearcher(index, settings)
    real = searcher.embedder
    asked: list[str] = []

    class Recording:
        name, dim = real.name, real.dim

        def embed(self, texts):
            raise AssertionError("the batch path is for documents")

        def embed_query(self, text):
            asked.append(text)
            return real.embed_query(text)

    searcher.embedder = Recording()
    assert searcher.search("timely feedback", k=1)[0].chunk.source == "feedback.md"
    assert asked == ["timely feedback"]


def test_minilm_tolerates_lone_surrogates():
    """Undecodable argv bytes arrive as lone surrogates; they must not crash the tokenizer."""
    from agent.core.settings import load_settings
    from agent.index.embeddings import get_embedder

    emb = get_embedder(load_settings(embedder="minilm"))
    q = emb.embed_query("\udcff my team ignores me")
    batch = emb.embed(["\ud800 broken", "fine text"])
    assert q.shape == (384,) and batch.shape == (2, 384)
    assert abs(float((q * q).sum()) - 1.0) < 1e-3
