"""The crisis exemplar bank: schema, loading (hand-written bank + cases copied from dev), precomputed vectors."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

log = logging.getLogger(__name__)

FAMILIES = ("self_harm", "someone_else", "harm_to_others")  # each has its own threshold
LANGUAGES = ("de", "fr", "es", "pt", "nl", "it")


def family(group: str) -> str:
    """self_harm_de -> self_harm: language groups share the self-harm threshold."""
    return "self_harm" if group.startswith("self_harm") else group


class CaseBank(BaseModel):
    """agent/safety/data/crisis_cases.yaml (generated from the dev eval cases): more crisis and contrast statements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crisis: dict[str, list[str]] = Field(default_factory=dict)
    contrast: list[str] = Field(default_factory=list)
    source: dict[str, str] = Field(default_factory=dict)  # text -> eval case id, for leave-one-round-out sweeps

    @field_validator("crisis")
    @classmethod
    def _groups(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        allowed = {*FAMILIES, *(f"self_harm_{lang}" for lang in LANGUAGES)}
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown crisis group(s) {', '.join(unknown)}; use {', '.join(sorted(allowed))}")
        return v


class ExemplarBank(CaseBank):
    """agent/safety/data/crisis_exemplars.yaml: crisis statements by group, contrast statements, and the cut-offs."""

    version: int
    thresholds: dict[str, float]  # per family: the crisis similarity a sentence must reach
    margin: float = Field(ge=-1.0, lt=1.0)  # ... and how far it must beat the contrast similarity
    check_in: float = Field(default=0.0, ge=0.0, lt=0.5)  # slack below both cut-offs that earns a safety check-in
    top_k: int = Field(default=2, ge=1, le=10)  # similarity = mean of the k nearest: one odd neighbour can't decide
    cases: str = ""  # a CaseBank file beside this one whose statements are added to the banks

    @model_validator(mode="after")
    def _cutoffs(self) -> ExemplarBank:
        if sorted(self.thresholds) != sorted(FAMILIES) or not all(0 < t < 1 for t in self.thresholds.values()):
            raise ValueError(f"thresholds: give one value in (0, 1) for each of {', '.join(FAMILIES)}")
        if not any(self.crisis.values()) or not self.contrast:
            raise ValueError("both the crisis bank and the contrast bank need statements")
        return self

    def merged(self, extra: CaseBank) -> ExemplarBank:
        """This bank with `extra`'s statements added (duplicates dropped)."""
        crisis = {g: list(dict.fromkeys(self.crisis.get(g, []) + extra.crisis.get(g, [])))
                  for g in dict.fromkeys([*self.crisis, *extra.crisis])}
        contrast = list(dict.fromkeys(self.contrast + extra.contrast))
        return self.model_copy(update={"crisis": crisis, "contrast": contrast, "cases": "",
                                       "source": {**self.source, **extra.source}})


def default_bank_path() -> Path:
    from agent.core.resources import safety_data_dir

    return safety_data_dir() / "crisis_exemplars.yaml"


@lru_cache(maxsize=4)
def load_bank(path: Path | None = None, with_cases: bool = True) -> ExemplarBank:
    """Read and validate the exemplar bank (plus its `cases` file) once per process; errors are one ConfigError line."""
    from agent.core.yaml_data import load_model

    path = path or default_bank_path()
    bank = load_model(path, ExemplarBank, "crisis exemplars")
    if bank.cases and with_cases:
        bank = bank.merged(load_model(path.parent / bank.cases, CaseBank, "crisis exemplar cases"))
    return bank


def vectors_path(bank_path: Path | None = None) -> Path:
    """Where the bank's precomputed vectors live: beside the YAML, same stem, .npz."""
    return (bank_path or default_bank_path()).with_suffix(".npz")


def bank_key(bank: ExemplarBank, embedder_name: str) -> str:
    """Identifies the vectors of exactly these texts under exactly this model."""
    body = json.dumps({"model": embedder_name, "crisis": bank.crisis, "contrast": bank.contrast}, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def bank_texts(bank: ExemplarBank) -> list[str]:
    return [t for texts in bank.crisis.values() for t in texts] + list(bank.contrast)


def save_vectors(bank: ExemplarBank, embedder: Any, path: Path | None = None) -> Path:
    """Embed both banks and write them with their key (run after editing the bank: python -m ...semantic)."""
    path = path or vectors_path()
    vectors = embedder.embed(bank_texts(bank)).astype(np.float32)
    np.savez(path, key=np.array(bank_key(bank, embedder.name)), vectors=vectors)
    return path


def stored_vectors(bank: ExemplarBank, embedder_name: str, path: Path | None) -> np.ndarray | None:
    """The shipped vectors when they match the bank and model, else None (and the caller embeds afresh)."""
    path = path or vectors_path()
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) == bank_key(bank, embedder_name):
                return np.array(data["vectors"], dtype=np.float32)
    except (OSError, KeyError, ValueError):
        pass
    log.warning("crisis check: %s is missing or stale; embedding the exemplar bank now (slower start)", path.name)
    return None


