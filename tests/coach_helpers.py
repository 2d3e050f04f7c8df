"""Coach test set-up: the bundled corpus indexed once (hash embedder), then copied into each COACH_HOME."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from agent.settings import Settings, load_settings

_BUILT: dict[str, Path] = {}


def built_index() -> Path:
    """A folder holding an index of the bundled corpus, built once per test run."""
    if "index" not in _BUILT:
        from agent.retrieval import open_searcher

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
