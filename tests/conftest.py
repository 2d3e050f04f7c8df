"""Shared fixtures: every test gets its own COACH_HOME, and fast tests use the deterministic hash embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (ROOT.parent / "shared" / "seeds").resolve()


def require(condition: bool, why: str) -> None:
    """Skip on a developer machine that lacks a prerequisite; fail in CI, where everything must run."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI prerequisite missing: {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def coach_home(tmp_path, monkeypatch):
    """Point all data (index, database, logs, config) at a temp dir, and clear stray COACH_* settings."""
    for key in list(os.environ):
        if key.startswith("COACH_"):
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "coach-home"
    monkeypatch.setenv("COACH_HOME", str(home))
    monkeypatch.setenv("COACH_EMBEDDER", "hash")
    return home


@pytest.fixture
def seeds_dir() -> Path:
    require(SEEDS.is_dir(), f"seed articles not found at {SEEDS}")
    return SEEDS
