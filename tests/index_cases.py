"""Index behaviours shared by the embedded and Chroma-server tests; each case takes (settings, index path)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest

from agent.core.types import Chunk
from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher


def make_chunks(source: str, paragraphs: list[str], title: str = "") -> list[Chunk]:
    """Chunks of a document made of `paragraphs` joined by blank lines, with true character offsets."""
    text = "\n\n".join(paragraphs)
    chunks, pos = [], 0
    for n, para in enumerate(paragraphs):
        start = text.index(para, pos)
        pos = start + len(para)
        digest = hashlib.sha256(para.encode()).hexdigest()[:12]
        chunks.append(
            Chunk(
                id=f"{source}#{digest}-{n}",
                source=source,
                title=title or source,
                text=para,
                chunk=n,
                start=start,
                end=pos,
            )
        )
    return chunks


def upsert(source: str, paragraphs: list[str], version: str = "v1") -> dict[str, tuple[str, list[Chunk]]]:
    return {
        source: (hashlib.sha256(f"{source}:{version}".encode()).hexdigest(), make_chunks(source, paragraphs))
    }


DELEGATION = [
    "Delegation means handing over the outcome, not only the task list.",
    "A manager who keeps every decision becomes the bottleneck of the team.",
]
FEEDBACK = [
    "Specific feedback names the behaviour and its effect on the work.",
    "Timely feedback arrives while the moment is still fresh for both people.",
]
PEERS = [
    "Sponsors among your peers speak up for you in rooms you are not in.",
    "An anti-sponsor may block your proposals without saying why.",
]


def own_collections(index: Index) -> set[str]:
    prefix = f"coach_{index.namespace}_"
    return {c.name for c in index.client().list_collections() if c.name.startswith(prefix)}


def case_apply_search_update_remove(settings: Any, root: Path) -> None:
    index = Index.open(settings, root)
    index.apply({**upsert("delegation.md", DELEGATION), **upsert("feedback.md", FEEDBACK)})
    assert index.count() == 4
    assert set(index.sources()) == {"delegation.md", "feedback.md"}
    assert [c.chunk for c in index.chunks_for("feedback.md")] == [0, 1]
    searcher = HybridSearcher(index, settings)
    hits = searcher.search("timely feedback while the moment is fresh", k=2)
    assert hits[0].chunk.source == "feedback.md" and hits[0].chunk.chunk == 1
    assert hits[0].dense_rank is not None and hits[0].sparse_rank is not None

    index.apply(upsert("peers.md", PEERS), removals=["delegation.md"])
    assert set(index.sources()) == {"feedback.md", "peers.md"}
    hits = searcher.search("anti-sponsor blocks proposals", k=4)
    assert hits[0].chunk.source == "peers.md"
    assert all(h.chunk.source != "delegation.md" for h in hits)

    index.remove_sources(["feedback.md"])
    assert set(Index.open(settings, root).sources()) == {"peers.md"}


def case_generations_are_collected(settings: Any, root: Path) -> None:
    index = Index.open(settings, root)
    for n in range(4):
        index.apply(upsert("feedback.md", FEEDBACK + [f"Revision {n} of the note."], version=str(n)))
    current = index.current_name()
    kept = sorted(p.name for p in (root / "gens").iterdir())
    assert current == "g000004" and kept == ["g000003", "g000004"]  # the previous one stays for readers
    assert own_collections(index) == {index.collection_name(g) for g in kept}
    assert not list(root.glob("CURRENT.*"))


def case_unchanged_chunks_are_copied_not_embedded(
    settings: Any, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent.index import generations as index_mod
    from agent.index.embeddings import get_embedder

    real = get_embedder(settings)
    seen: list[str] = []

    class Counting:
        name, dim = real.name, real.dim

        def embed(self, texts: list[str]):
            seen.extend(texts)
            return real.embed(texts)

    monkeypatch.setattr(index_mod, "get_embedder", lambda _s: Counting())
    index = Index.open(settings, root)
    index.apply({**upsert("feedback.md", FEEDBACK), **upsert("peers.md", PEERS)})
    seen.clear()
    index.apply({**upsert("peers.md", PEERS), **upsert("delegation.md", DELEGATION)})  # peers.md unchanged
    assert seen == DELEGATION
    gen = index.generation
    vec = gen.vectors[gen.pos_of[make_chunks("feedback.md", FEEDBACK)[0].id]]
    assert abs(float(vec @ real.embed([FEEDBACK[0]])[0]) - 1.0) < 1e-5


def case_reader_follows_current(settings: Any, root: Path) -> None:
    writer = Index.open(settings, root)
    writer.apply(upsert("feedback.md", FEEDBACK))
    reader = HybridSearcher(Index.open(settings, root), settings)
    assert reader.search("sponsors speak up for you", k=1)[0].chunk.source == "feedback.md"
    for n in range(3):  # the reader's first generation gets collected along the way
        writer.apply(upsert("peers.md", PEERS, version=str(n)))
    assert reader.search("sponsors speak up for you", k=1)[0].chunk.source == "peers.md"


def case_concurrent_writers_serialise(settings: Any, root: Path) -> None:
    Index.open(settings, root)  # create the folder once, as a first ingest would
    errors: list[BaseException] = []

    def write(name: str, paras: list[str]) -> None:
        try:
            Index.open(settings, root).apply(upsert(name, paras))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=a)
        for a in (("feedback.md", FEEDBACK), ("peers.md", PEERS), ("delegation.md", DELEGATION))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    index = Index.open(settings, root)
    assert set(index.sources()) == {"feedback.md", "peers.md", "delegation.md"}
    assert index.count() == 6 and index.current_name() == "g000003"


CASES = {
    "apply_search_update_remove": case_apply_search_update_remove,
    "generations_are_collected": case_generations_are_collected,
    "unchanged_chunks_are_copied": case_unchanged_chunks_are_copied_not_embedded,
    "reader_follows_current": case_reader_follows_current,
    "concurrent_writers_serialise": case_concurrent_writers_serialise,
}


def run_case(name: str, settings: Any, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    if name == "unchanged_chunks_are_copied":
        case(settings, root, monkeypatch)
    else:
        case(settings, root)
