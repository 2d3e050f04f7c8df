"""The bundled corpus's index shipped in the package: fresh against the corpus, used on a first run, and safe."""

from __future__ import annotations

import hashlib
import json
import tarfile

import pytest

from agent.core.resources import corpus_dir
from agent.core.settings import load_settings
from agent.index.generations import Index
from agent.ingest import shipped
from agent.ingest.bundled import open_searcher
from agent.ingest.pipeline import ingest_paths


def test_the_shipped_index_is_fresh_for_the_corpus_chunker_and_embedder():
    manifest = shipped.read_manifest()
    assert manifest is not None, "no manifest: run `make bundled-index`"
    assert manifest["corpus_sha256"] == shipped.corpus_fingerprint(corpus_dir()), (
        "the corpus or the chunker changed since the shipped index was built: run `make bundled-index`")
    assert manifest["artifact_sha256"] == hashlib.sha256(shipped.ARTIFACT.read_bytes()).hexdigest()
    with tarfile.open(shipped.ARTIFACT, "r:gz") as tar:
        current = tar.extractfile("CURRENT").read().decode().strip()
        meta = json.loads(tar.extractfile(f"gens/{current}/meta.json").read())
    from agent.index.embeddings import EMBEDDERS

    assert meta["embedder"] == EMBEDDERS[manifest["settings_embedder"]].name == manifest["embedder"]
    assert meta["count"] == manifest["chunks"] > 0


def test_a_first_run_unpacks_the_shipped_index_instead_of_embedding(monkeypatch):
    monkeypatch.setenv("COACH_EMBEDDER", "minilm")
    settings = load_settings()

    def no_ingest(*args, **kwargs):
        raise AssertionError("the bundled corpus was ingested although a fresh index ships")

    monkeypatch.setattr("agent.ingest.pipeline.ingest_paths", no_ingest)
    searcher = open_searcher(settings)
    assert searcher.index.count() == shipped.read_manifest()["chunks"]
    hits = searcher.search("how much authority to hand over when delegating", k=3)
    assert any("delegation" in h.chunk.source for h in hits)
    # The unpacked Chroma store is whole: a later ingest copies the shipped vectors into a new collection.
    monkeypatch.undo()
    monkeypatch.setenv("COACH_EMBEDDER", "minilm")
    note = settings.home / "note.md"
    note.write_text("# Feedback\n\nAsk how your feedback landed, then listen.\n", encoding="utf-8")
    assert ingest_paths([note], settings).ok
    index = Index.open(settings)
    assert index.client().get_collection(index.generation.collection).count() == index.count()


@pytest.mark.parametrize("why", ["hash embedder", "chroma server", "corpus changed"])
def test_an_unusable_shipped_index_is_not_used(monkeypatch, tmp_path, why):
    settings = load_settings(embedder="minilm")
    corpus = corpus_dir()
    if why == "hash embedder":
        settings = load_settings()
    elif why == "chroma server":
        settings = load_settings(embedder="minilm", chroma_url="http://127.0.0.1:9")
    else:
        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "one.md").write_text("# One\n\nA note that is not in the shipped index.\n", encoding="utf-8")
    index = Index.open(settings) if why != "chroma server" else None
    assert not shipped.usable(settings, corpus)
    if index is not None:
        assert not shipped.install(settings, index, corpus) and index.current_name() is None
