"""The embedded index: atomic generations, GC, locking, crash safety and readers in other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent.core.errors import ConfigError, IndexMissing, IngestError
from agent.core.settings import load_settings
from agent.index import retrieval
from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher
from tests.index_cases import CASES, FEEDBACK, PEERS, make_chunks, run_case, upsert

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings():
    return load_settings()


@pytest.mark.parametrize("case", sorted(CASES))
def test_embedded_index(case, settings, tmp_path, monkeypatch):
    run_case(case, settings, tmp_path / "index", monkeypatch)


def test_empty_index_has_no_sources_and_search_returns_nothing(settings):
    index = Index.open(settings)
    assert index.sources() == {} and index.count() == 0 and index.current_name() is None
    assert HybridSearcher(index, settings).search("anything", k=3) == []


def test_open_without_create_on_a_missing_folder_is_one_line(settings, tmp_path):
    with pytest.raises(IndexMissing, match="no index at") as err:
        Index.open(settings, tmp_path / "nowhere", create=False)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"a.md": ("sha", make_chunks("b.md", ["Text that claims another source."]))},
        {"a.md": ("sha", make_chunks("a.md", ["Same.", "Same."]) * 2)},
    ],
)
def test_bad_upserts_are_refused_before_anything_is_written(settings, bad):
    index = Index.open(settings)
    index.apply(upsert("feedback.md", FEEDBACK))
    before = sorted(p.name for p in index.gens.iterdir())
    with pytest.raises(IngestError):
        index.apply(bad)
    assert sorted(p.name for p in index.gens.iterdir()) == before
    assert set(Index.open(settings).sources()) == {"feedback.md"}


def test_bad_chroma_url_is_a_config_error(tmp_path):
    settings = load_settings(chroma_url="ftp://example")
    with pytest.raises(ConfigError, match="chroma_url"):
        Index.open(settings, tmp_path / "i").apply(upsert("feedback.md", FEEDBACK))


def test_searching_with_another_embedder_is_refused(settings):
    Index.open(settings).apply(upsert("feedback.md", FEEDBACK))
    other = load_settings(embedder="minilm")
    with pytest.raises(ConfigError, match="built with embedder 'hash-ngram-384'") as err:
        HybridSearcher(Index.open(other), other)
    assert "\n" not in str(err.value)


def test_collection_metadata_names_the_embedder(settings):
    index = Index.open(settings)
    index.apply(upsert("feedback.md", FEEDBACK))
    from agent.index.embeddings import get_embedder

    col = index.collection(index.generation, get_embedder(settings))
    assert col.metadata["embedder"] == "hash-ngram-384"
    assert col.configuration_json["embedding_function"]["name"] == "socratic_coach_hash"


# ---- crash safety and other processes (spawn Python, so slow) ----

KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from agent.index.generations import Index
    from agent.core.settings import load_settings
    from tests.index_cases import upsert, DELEGATION
    point = sys.argv[1]
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    index = Index.open(load_settings())
    if point == "set_current":
        Index._set_current = die
    elif point == "after_flip":
        real = Index._set_current
        Index._set_current = lambda self, name: (real(self, name), die())
    elif point == "write_files":
        import agent.index.generation_writer as w
        w.GenerationWriter.finish = die
    progress = die if point == "embedding" else None
    index.apply(upsert("delegation.md", DELEGATION * 40), progress=progress)
""")


@pytest.mark.slow
@pytest.mark.parametrize("point", ["embedding", "write_files", "set_current", "after_flip"])
def test_kill_9_during_apply_leaves_a_whole_usable_index(settings, tmp_path, point):
    index = Index.open(settings)
    index.apply(upsert("feedback.md", FEEDBACK))
    index.apply(upsert("peers.md", PEERS))
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(root=str(ROOT)))
    proc = subprocess.run(
        [sys.executable, str(script), point], check=False, env=os.environ.copy(), timeout=120
    )
    assert proc.returncode == -9

    reopened = Index.open(settings)
    if point == "after_flip":  # the new generation was complete and current: it must be whole too
        assert set(reopened.sources()) == {"feedback.md", "peers.md", "delegation.md"}
    else:
        assert reopened.current_name() == "g000002"
        assert set(reopened.sources()) == {"feedback.md", "peers.md"} and reopened.count() == 4
    hits = HybridSearcher(reopened, settings).search("sponsors speak up for you", k=2)
    assert hits and hits[0].chunk.source == "peers.md"

    reopened.apply(upsert("delegation.md", ["A fresh start after the crash."], version="v2"))
    assert set(reopened.sources()) == {"feedback.md", "peers.md", "delegation.md"}
    names = sorted(p.name for p in reopened.gens.iterdir())
    assert len(names) == 2 and reopened.current_name() == names[-1]  # orphans collected
    from tests.index_cases import own_collections

    assert own_collections(reopened) == {reopened.collection_name(n) for n in names}


READER = textwrap.dedent("""
    import json, pathlib, sys
    sys.path.insert(0, {root!r})
    from agent.ingest.bundled import open_searcher
    from agent.core.settings import load_settings
    s = open_searcher(load_settings())
    stop = pathlib.Path(sys.argv[1])
    s.search("warm up", k=1)  # imports chromadb and opens the collection before the writer starts
    seen, n = set(), 0
    print("ready", flush=True)
    while True:
        done = stop.exists()
        hits = s.search("sponsors speak up for you", k=3)
        assert hits and hits[0].chunk.source == "peers.md", hits
        seen.add(s.index.generation.name); n += 1
        if done:
            break
    result = {{"searches": n, "generations": sorted(seen), "last": s.index.generation.name}}
    print(json.dumps(result), flush=True)
""")


@pytest.mark.slow
def test_readers_in_other_processes_keep_working_during_applies(settings, tmp_path):
    index = Index.open(settings)
    index.apply({**upsert("feedback.md", FEEDBACK), **upsert("peers.md", PEERS)})
    script, stop = tmp_path / "reader.py", tmp_path / "stop"
    script.write_text(READER.format(root=str(ROOT)))
    env = {**os.environ, "COACH_INDEX_BUNDLED_CORPUS": "false"}
    readers = [
        subprocess.Popen([sys.executable, str(script), str(stop)], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for r in readers:
        assert r.stdout.readline().strip() == "ready"
    for n in range(6):
        index.apply(
            upsert("delegation.md", [f"Revision {n}: hand over outcomes, not tasks."], version=str(n))
        )
        time.sleep(0.2)
    stop.touch()
    for r in readers:
        out, _ = r.communicate(timeout=120)
        assert r.returncode == 0, out
        result = json.loads(out.strip().splitlines()[-1])
        assert result["last"] == index.current_name() == "g000007"
        assert len(result["generations"]) >= 2  # it followed CURRENT while the writer moved it


def test_applying_nothing_new_keeps_the_live_generation(settings):
    index = Index.open(settings)
    first = index.apply({**upsert("feedback.md", FEEDBACK), **upsert("peers.md", PEERS)})
    assert index.apply(upsert("peers.md", PEERS)) == first  # same bytes, same chunks
    assert index.apply({}, removals=["never-ingested.md"]) == first
    assert sorted(p.name for p in index.gens.iterdir()) == [first]


def test_a_missing_current_generation_is_reported_not_looped_on(settings):
    index = Index.open(settings)
    name = index.apply(upsert("feedback.md", FEEDBACK))
    import shutil

    shutil.rmtree(index.gens / name)
    with pytest.raises(IndexMissing, match="damaged"):
        Index.open(settings)


@pytest.mark.slow
def test_switching_embedder_re_embeds_kept_chunks(settings):
    Index.open(settings).apply(upsert("feedback.md", FEEDBACK))
    minilm = load_settings(embedder="minilm")
    index = Index.open(minilm)
    index.apply(upsert("peers.md", PEERS))
    assert index.embedder_name == "minilm-l6-int8" and index.count() == 4
    hits = HybridSearcher(index, minilm).search("feedback that arrives while it is still fresh", k=1)
    assert hits[0].chunk.source == "feedback.md"
    with pytest.raises(ConfigError, match="built with embedder 'minilm-l6-int8'"):
        HybridSearcher(Index.open(settings), settings)


def _damage(index: Index, what: str) -> None:
    gen_dir = index.gens / index.current_name()
    import shutil

    if what == "vectors":
        (gen_dir / "vectors.npy").unlink()
    elif what == "store":
        (gen_dir / "chunks.sqlite").write_bytes(b"not a database at all" * 100)
    elif what == "meta":
        (gen_dir / "meta.json").write_text("{ half written", encoding="utf-8")
    elif what == "bm25":
        for f in (gen_dir / "bm25").iterdir():
            f.write_text("garbage", encoding="utf-8")
    elif what == "folder":
        shutil.rmtree(gen_dir)
    elif what == "current":
        (index.root / "CURRENT").write_bytes(b"\xff\xfe garbage")
    elif what == "collection":
        index.client().delete_collection(index.generation.collection)


@pytest.mark.parametrize("what", ["vectors", "store", "meta", "bm25", "folder", "current", "collection"])
def test_a_damaged_generation_is_one_line_that_points_at_doctor(settings, what, monkeypatch):
    index = Index.open(settings)
    index.apply(upsert("feedback.md", FEEDBACK))
    _damage(index, what)
    if what == "collection":
        # A small embedded index answers from vectors.npy and never sees the lost collection; a large one asks Chroma.
        assert HybridSearcher(Index.open(settings), settings).search("timely feedback", k=2)
        monkeypatch.setattr(retrieval, "EXACT_MAX", 0)
    with pytest.raises(IndexMissing) as err:
        HybridSearcher(Index.open(settings), settings).search("timely feedback", k=2)
    message = str(err.value)
    assert "\n" not in message and "coach doctor --repair" in message, message
    assert str(index.root) in message or index.current_name() in message


def _vectors(index: Index):
    import numpy as np

    return np.load(index.gens / index.current_name() / "vectors.npy")


@pytest.mark.parametrize("embedder", ["hash", "minilm"])
def test_chunks_embedded_ahead_while_chroma_opens_get_the_same_vectors(tmp_path, monkeypatch, embedder):
    import numpy as np

    from agent.index import writer

    paragraphs = [f"Note {n}: {' '.join(['feedback', 'peers', 'delegation'][: 1 + n % 3] * (1 + n % 7))}."
                  for n in range(150)]  # more than AHEAD: some batches ahead, the rest in build()
    ahead = Index.open(load_settings(embedder=embedder), tmp_path / "ahead")
    ahead.apply(upsert("notes.md", paragraphs))
    monkeypatch.setattr(writer, "AHEAD", 0)  # the old order: nothing ahead, every batch embedded in build()
    plain = Index.open(load_settings(embedder=embedder), tmp_path / "plain")
    plain.apply(upsert("notes.md", paragraphs))
    assert np.array_equal(_vectors(ahead), _vectors(plain))
    hits = HybridSearcher(ahead, load_settings(embedder=embedder)).search("delegation", k=3)
    assert hits and all(h.chunk.source == "notes.md" for h in hits)


def test_a_model_that_fails_ahead_leaves_the_index_as_it_was(settings, tmp_path, monkeypatch):
    from agent.index.embeddings import HashEmbedder

    index = Index.open(settings, tmp_path / "index")
    index.apply(upsert("feedback.md", FEEDBACK))
    before = (index.current_name(), sorted(p.name for p in index.gens.iterdir()))

    def broken(self, texts):
        raise RuntimeError("model process died")

    monkeypatch.setattr(HashEmbedder, "embed", broken)  # a fault injected into the real embedder
    with pytest.raises(RuntimeError, match="model process died"):
        index.apply(upsert("peers.md", PEERS))
    again = Index.open(settings, tmp_path / "index")
    assert (again.current_name(), sorted(p.name for p in again.gens.iterdir())) == before
    assert again.sources().keys() == {"feedback.md"}
