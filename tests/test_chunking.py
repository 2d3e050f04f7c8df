"""Chunking: heading paths, token limits, overlap, and exact offsets (also on random documents)."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.tokens import count_tokens
from agent.ingest.chunking import chunk_document, sections
from agent.ingest.loaders import Document, load

FIXTURES = Path(__file__).parent / "fixtures"


def _doc(text: str, **kw) -> Document:
    return Document(text=text, title=kw.pop("title", "T"), source=kw.pop("source", "d.md"), **kw)


def _check(doc: Document, chunks, max_tokens: int) -> None:
    """The invariants every chunking must keep."""
    assert [c.chunk for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    covered = [False] * len(doc.text)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text and c.text.strip() == c.text and c.text
        assert c.tokens == count_tokens(c.text) <= max_tokens
        assert re.fullmatch(rf"{re.escape(doc.source)}#[0-9a-f]{{12}}-{c.chunk}", c.id)
        covered[c.start : c.end] = [True] * (c.end - c.start)
    missed = [ch for ch, hit in zip(doc.text, covered) if not hit and not ch.isspace()]
    assert not missed, f"text left out of every chunk: {''.join(missed)[:40]!r}"
    for a, b in pairwise(chunks):
        assert a.start < b.start and a.end < b.end


def test_heading_paths_and_metadata_from_front_matter():
    doc = load(FIXTURES / "note.md", 10**6)
    chunks = chunk_document(doc)
    _check(doc, chunks, 256)
    assert [c.heading for c in chunks] == [
        "Feedback that lands",
        "Feedback that lands > Before the conversation",
        "Feedback that lands > During the conversation",
        "Feedback that lands > During the conversation > When it gets tense",
    ]
    assert all(c.link == "https://example.org/feedback" and c.author == "Test Author" for c in chunks)
    assert all(c.title == "Feedback that lands" and c.source == "note.md" for c in chunks)
    assert chunks[1].text.startswith("## Before the conversation\n\nWrite down the moment")


def test_heading_without_body_joins_the_next_section():
    text = "# Guide\n## Part one\n\nBody of part one.\n\n## Part two\n\nBody of part two."
    chunks = chunk_document(_doc(text))
    assert [(c.heading, c.text) for c in chunks] == [
        ("Guide > Part one", "# Guide\n## Part one\n\nBody of part one."),
        ("Guide > Part two", "## Part two\n\nBody of part two."),
    ]


def test_hashes_inside_code_fences_are_not_headings():
    text = "# Real\n\n```\n# not a heading\n```\n\nAfter the code."
    assert [s.heading for s in sections(text)] == ["Real"]


def test_seeds_respect_the_limit_and_overlap_about_forty_tokens(seeds_dir):
    overlaps = []
    for path in sorted(seeds_dir.glob("*.txt")):
        doc = load(path, 10**7)
        chunks = chunk_document(doc, max_tokens=256, overlap_tokens=40)
        _check(doc, chunks, 256)
        assert len(chunks) >= 2
        for a, b in pairwise(chunks):
            if a.heading == b.heading:
                assert b.start < a.end, "consecutive chunks of a section overlap"
                overlaps.append(count_tokens(doc.text[b.start : a.end]))
    assert overlaps and max(overlaps) <= 42 and sum(overlaps) / len(overlaps) >= 20


def test_long_paragraph_splits_at_sentences_and_huge_sentence_at_words():
    sentences = " ".join(f"Sentence number {i} says a little more about listening well." for i in range(80))
    run_on = " ".join(f"word{i}" for i in range(1500))  # one sentence, no punctuation at all
    doc = _doc(f"{sentences}\n\n{run_on}")
    chunks = chunk_document(doc, max_tokens=128, overlap_tokens=20)
    _check(doc, chunks, 128)
    sentence_chunks = [c for c in chunks if c.end <= len(sentences)]
    assert len(sentence_chunks) >= 5
    assert all(c.text.endswith("well.") for c in sentence_chunks[:-1])  # cut after a full stop
    assert all(re.match(r"(Sentence|word\d)", c.text) for c in chunks)  # start on a word, never mid-word


def test_closing_quotes_stay_with_their_sentence():
    paragraph = " ".join(
        f'She said "we tried plan {i}." Then (after a pause.) it changed.' for i in range(40)
    )
    doc = _doc(paragraph)
    chunks = chunk_document(doc, max_tokens=64, overlap_tokens=0)
    _check(doc, chunks, 64)
    assert all(c.text.endswith(("changed.", '."', ".)")) for c in chunks)


def test_no_overlap_when_asked_for_none():
    doc = _doc(
        "\n\n".join(
            f"Paragraph {i} is about trust between peers, and why it grows slowly." for i in range(60)
        )
    )
    chunks = chunk_document(doc, max_tokens=64, overlap_tokens=0)
    _check(doc, chunks, 64)
    assert all(b.start >= a.end for a, b in pairwise(chunks))


@pytest.mark.parametrize("max_tokens, overlap", [(8, 0), (64, 40), (256, -1)])
def test_bad_parameters(max_tokens, overlap):
    with pytest.raises(ValueError):
        chunk_document(_doc("Some text."), max_tokens=max_tokens, overlap_tokens=overlap)


_word = st.one_of(
    st.sampled_from(
        [
            "lead",
            "team",
            "trust",
            "peer",
            "the",
            "a",
            "of",
            "question",
            "promotion",
            "café",
            "naïve",
            "日本語",
            "emoji🙂",
            "x" * 30,
            "1.5",
            "e.g.",
            "—",
            "##",
            "```",
            'said."',
            "(aside.)",
            "end.]",
        ]
    ),
    st.text(min_size=1, max_size=12),
)
_sentence = st.lists(_word, min_size=1, max_size=25).map(" ".join).map(lambda s: s + st_end(s))
_paragraph = st.lists(_sentence, min_size=1, max_size=12).map(" ".join)
_block = st.one_of(
    _paragraph,
    st.tuples(st.integers(1, 4), st.lists(_word, min_size=1, max_size=6)).map(
        lambda t: "#" * t[0] + " " + " ".join(t[1])
    ),
    st.lists(_sentence, min_size=1, max_size=8).map(lambda items: "\n".join(f"- {s}" for s in items)),
)
_separator = st.sampled_from(["\n\n", "\n", "\n\n\n", " \n \n"])


def st_end(s: str) -> str:
    return "" if len(s) % 3 else "."


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=st.lists(st.tuples(_block, _separator), min_size=1, max_size=12),
    max_tokens=st.integers(16, 300),
    overlap_share=st.floats(0, 0.5),
)
def test_random_documents_keep_every_invariant(blocks, max_tokens, overlap_share):
    text = "".join(b + sep for b, sep in blocks).strip()
    if not text:
        return
    doc = _doc(text)
    chunks = chunk_document(doc, max_tokens=max_tokens, overlap_tokens=int(max_tokens * overlap_share))
    _check(doc, chunks, max_tokens)
