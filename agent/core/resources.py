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


def evals_dir() -> Path:
    return resource_dir("evals")


def ui_dir() -> Path:
    return resource_dir("ui")
