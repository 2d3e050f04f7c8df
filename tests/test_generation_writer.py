"""The streaming generation writer: BM25 scores equal bm25s's own, and batches land in any order."""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from agent.core.types import Chunk
from agent.index.generation import BM25_B, BM25_K1, Generation, SourceInfo, bm25_terms
from agent.index.generation_writer import BM25Builder, GenerationWriter, write_bm25
from tests.index_cases import DELEGATION, FEEDBACK, PEERS, make_chunks

TEXTS = (
    DELEGATION
    + FEEDBACK
    + PEERS
    + [
        "Feedback feedback feedback: repeated terms saturate instead of adding up.",
        "",  # a document with no terms at all still counts in the average length
        "Peers, sponsors and anti-sponsors decide more promotions than managers do.",
    ]
)
QUERIES = ["feedback", "sponsors peers promotions", "manager decision bottleneck", "moment fresh people"]


def test_bm25_builder_scores_equal_bm25s_own_index(tmp_path):
    reference = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    reference.index(bm25_terms(TEXTS), show_progress=False)
    builder = BM25Builder(len(TEXTS))
    order = list(range(len(TEXTS)))
    random.Random(3).shuffle(order)  # documents arrive out of order, in uneven batches
    for batch in (order[:2], order[2:3], order[3:]):
        builder.add(batch, [TEXTS[i] for i in batch])
    builder.save(tmp_path / "bm25")
    ours = bm25s.BM25.load(str(tmp_path / "bm25"), show_progress=False)
    assert ours.scores["num_docs"] == len(TEXTS)
    for query in QUERIES:
        terms = bm25_terms([query])[0]
        expected = reference.get_scores_from_ids([reference.vocab_dict[t] for t in terms])
        got = ours.get_scores_from_ids([ours.vocab_dict[t] for t in terms])
        assert expected.max() > 0
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def _generation(folder, chunks: list[Chunk], order: list[int], batch: int) -> Generation:
    vectors = np.random.default_rng(0).standard_normal((len(chunks), 384)).astype(np.float32)
    writer = GenerationWriter(folder, len(chunks), 384)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        writer.add(rows, [chunks[i] for i in rows], vectors[rows])
    source = chunks[0].source
    writer.finish(
        {source: SourceInfo(source=source, sha256="x", n_chunks=len(chunks))},
        {"generation": folder.name, "collection": "c", "embedder": "hash-ngram-384"},
    )
    gen = Generation(folder)
    assert np.array_equal(np.asarray(gen.vectors), vectors)
    return gen


def test_batches_in_any_order_give_the_same_generation(tmp_path):
    chunks = make_chunks("notes.md", TEXTS[:-2] + TEXTS[-1:])
    order = list(range(len(chunks)))
    random.Random(5).shuffle(order)
    straight = _generation(tmp_path / "g000001", chunks, list(range(len(chunks))), batch=len(chunks))
    shuffled = _generation(tmp_path / "g000002", chunks, order, batch=2)
    assert straight.ids == shuffled.ids == [c.id for c in chunks]
    assert shuffled.chunks_at([3, 0]) == [chunks[3], chunks[0]]
    assert shuffled.meta["count"] == len(chunks) and shuffled.sources()["notes.md"].n_chunks == len(chunks)
    for query in QUERIES:
        assert straight.bm25_top(query, 5)[0].tolist() == shuffled.bm25_top(query, 5)[0].tolist()


def test_a_writer_missing_rows_refuses_to_finish(tmp_path):
    chunks = make_chunks("notes.md", FEEDBACK)
    writer = GenerationWriter(tmp_path / "g000001", 2, 384)
    writer.add([1], chunks[1:], np.zeros((1, 384), np.float32))
    with pytest.raises(RuntimeError, match="1 chunks never written"):
        writer.finish({}, {"collection": "c"})
    assert not (tmp_path / "g000001" / "meta.json").exists()


def test_write_bm25_streams_chunks_in_position_order(tmp_path):
    chunks = make_chunks("notes.md", TEXTS[:6])
    write_bm25(tmp_path / "bm25", iter(chunks), len(chunks), batch=4)
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"), show_progress=False)
    terms = bm25_terms(["bottleneck"])[0]
    scores = loaded.get_scores_from_ids([loaded.vocab_dict[t] for t in terms])
    assert int(np.argmax(scores)) == 1 and scores[1] > 0
