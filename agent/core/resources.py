"""Paths to the bundled corpus, prompts, evals and UI, whether installed as a wheel or run from a checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent  # agent/


def resource_dir(name: str) -> Path:
    """The folder `name` (corpus, prompts, evals, ui): inside the wheel, else beside the package."""
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    return _PKG.parent / name


def corpus_dir() -> Path:
    return resource_dir("corpus")


def prompts_dir() -> Path:
    return resource_dir("prompts")


def coach_data_dir() -> Path:
    """The coach's banks and lexicons (question bank, situations, ideas, openers, advice requests): agent/coach/data."""
    return _PKG / "coach" / "data"


def safety_data_dir() -> Path:
    """The guardrail rules and the crisis exemplar bank: agent/safety/data."""
    return _PKG / "safety" / "data"


def evals_dir() -> Path:
    return resource_dir("evals")


def ui_dir() -> Path:
    return resource_dir("ui")
