"""A searcher on the index, the bundled corpus indexed first when the index is empty (and settings allow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher, Mode


def index_bundled_corpus(settings: Any, index: Index) -> None:
    """Ingest the bundled corpus into an empty index, when settings.index_bundled_corpus allows and it has files."""
    if not index.sources() and settings.index_bundled_corpus:
        from agent.core.resources import corpus_dir

        corpus = corpus_dir()
        if corpus.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in corpus.rglob("*")):
            from agent.ingest.shipped import install

            if install(settings, index, corpus):  # the index built at build time: no embedding on a first run
                return
            from agent.ingest.pipeline import ingest_paths

            ingest_paths([corpus], settings, index=index)
            index.refresh()


def open_searcher(settings: Any, index_path: Path | None = None, mode: Mode = "hybrid") -> HybridSearcher:
    """A searcher on the index; indexes the bundled corpus first if the index is empty and settings allow."""
    index = Index.open(settings, index_path)
    index_bundled_corpus(settings, index)
    return HybridSearcher(index, settings, mode=mode)
