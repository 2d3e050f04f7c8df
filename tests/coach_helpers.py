"""Coach test set-up: the bundled corpus indexed once (hash embedder), then copied into each COACH_HOME."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from agent.core.settings import Settings, load_settings
from agent.core.types import Hit

_BUILT: dict[str, Path] = {}


def built_index() -> Path:
    """A folder holding an index of the bundled corpus, built once per test run."""
    if "index" not in _BUILT:
        from agent.ingest.bundled import open_searcher

        home = Path(tempfile.mkdtemp(prefix="coach-index-"))
        searcher = open_searcher(load_settings(home=home, embedder="hash"))
        assert searcher.index.count() > 0, "the bundled corpus indexed to nothing"
        _BUILT["index"] = home / "index"
    return _BUILT["index"]


def home_with_corpus(home: Path, **overrides) -> Settings:
    """Settings for `home` with the corpus index already in place (a copy, so tests stay independent)."""
    if not (home / "index").exists():
        shutil.copytree(built_index(), home / "index")
    return load_settings(home=home, embedder="hash", **overrides)


def corpus_hit(source: str, chunk: int = 0, chars: int = 1500) -> Hit:
    """A retrieved passage built from a real bundled corpus note (front matter removed), for engine unit tests."""
    import re

    from agent.core.resources import corpus_dir
    from agent.core.types import Chunk

    raw = (corpus_dir() / source).read_text(encoding="utf-8")
    title = re.search(r"^title: (.*)$", raw, re.M).group(1)
    body = re.sub(r"^---\n.*?\n---\n", "", raw, flags=re.S)[:chars]
    return Hit(chunk=Chunk(id=f"{source}#t-{chunk}", source=source, title=title, text=body, chunk=chunk,
                           start=0, end=len(body)), score=1.0)
