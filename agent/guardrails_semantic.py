"""Meaning-based crisis check: each sentence vs a bank of crisis statements and a contrast bank of idioms (MiniLM)."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.errors import ConfigError

log = logging.getLogger(__name__)

FAMILIES = ("self_harm", "someone_else", "harm_to_others")  # each has its own threshold
LANGUAGES = ("de", "fr", "es", "pt", "nl", "it")
MAX_UNITS = 256  # a message is capped at 8000 characters upstream; this only bounds pathological input
_SENTENCE = re.compile(r"(?<=[.!?…;])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
RuledOut = Callable[[str], Collection[str]]


def family(group: str) -> str:
    """self_harm_de -> self_harm: language groups share the self-harm threshold."""
    return "self_harm" if group.startswith("self_harm") else group


class ExemplarBank(BaseModel):
    """prompts/crisis_exemplars.yaml: crisis statements by group, contrast statements, and the cut-offs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    thresholds: dict[str, float]  # per family: the crisis similarity a sentence must reach
    margin: float = Field(ge=-1.0, lt=1.0)  # ... and how far it must beat the contrast similarity
    top_k: int = Field(default=2, ge=1, le=10)  # similarity = mean of the k nearest: one odd neighbour can't decide
    crisis: dict[str, list[str]]
    contrast: list[str] = Field(min_length=1)

    @field_validator("crisis")
    @classmethod
    def _groups(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        allowed = {*FAMILIES, *(f"self_harm_{lang}" for lang in LANGUAGES)}
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown crisis group(s) {', '.join(unknown)}; use {', '.join(sorted(allowed))}")
        if not any(v.values()):
            raise ValueError("the crisis bank is empty")
        return v

    @model_validator(mode="after")
    def _cutoffs(self) -> ExemplarBank:
        if sorted(self.thresholds) != sorted(FAMILIES) or not all(0 < t < 1 for t in self.thresholds.values()):
            raise ValueError(f"thresholds: give one value in (0, 1) for each of {', '.join(FAMILIES)}")
        return self


@dataclass(frozen=True)
class UnitScore:
    """How one sentence compares with the banks: top-k similarity per crisis family, and to the contrast bank."""

    text: str
    sims: dict[str, float]
    nearest: dict[str, tuple[str, str]]  # family -> (group, exemplar) of its nearest crisis exemplar
    contrast_sim: float


@dataclass(frozen=True)
class SemanticHit:
    """The sentence that read as crisis, and why."""

    text: str
    group: str  # the nearest exemplar's group: picks the reply (self / others / someone else, and language)
    exemplar: str
    crisis_sim: float
    contrast_sim: float


def default_bank_path() -> Path:
    from agent.resources import prompts_dir

    return prompts_dir() / "crisis_exemplars.yaml"


@lru_cache(maxsize=4)
def load_bank(path: Path | None = None) -> ExemplarBank:
    """Read and validate the exemplar bank once per process; a broken file is one ConfigError line."""
    import yaml

    path = path or default_bank_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ExemplarBank.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(f"crisis exemplars: {path} is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"crisis exemplars: {path.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"crisis exemplars: {path.name}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def vectors_path(bank_path: Path | None = None) -> Path:
    """Where the bank's precomputed vectors live: beside the YAML, same stem, .npz."""
    return (bank_path or default_bank_path()).with_suffix(".npz")


def bank_key(bank: ExemplarBank, embedder_name: str) -> str:
    """Identifies the vectors of exactly these texts under exactly this model."""
    body = json.dumps({"model": embedder_name, "crisis": bank.crisis, "contrast": bank.contrast}, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _bank_texts(bank: ExemplarBank) -> list[str]:
    return [t for texts in bank.crisis.values() for t in texts] + list(bank.contrast)


def save_vectors(bank: ExemplarBank, embedder: Any, path: Path | None = None) -> Path:
    """Embed both banks and write them with their key (run after editing the bank: python -m ...semantic)."""
    path = path or vectors_path()
    vectors = embedder.embed(_bank_texts(bank)).astype(np.float32)
    np.savez(path, key=np.array(bank_key(bank, embedder.name)), vectors=vectors)
    return path


def _stored_vectors(bank: ExemplarBank, embedder_name: str, path: Path | None) -> np.ndarray | None:
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


def split_units(message: str) -> list[str]:
    """The sentences of a message (line breaks and sentence punctuation), blank ones dropped, capped."""
    units = [s.strip() for s in _SENTENCE.split(message) if s and _WORD.search(s)]
    return units[:MAX_UNITS]


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of the k largest similarities."""
    k = min(k, sims.shape[1])
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


class CrisisScorer:
    """The embedded banks; `score` compares every sentence of a message with them, `flagged` applies the cut-offs."""

    def __init__(self, bank: ExemplarBank, embedder: Any, vectors_file: Path | None = None) -> None:
        self.bank = bank
        self.embedder = embedder
        pairs = [(group, text) for group, texts in bank.crisis.items() for text in texts]
        self.groups = [g for g, _ in pairs]
        self.exemplars = [t for _, t in pairs]
        vectors = _stored_vectors(bank, embedder.name, vectors_file)
        if vectors is None:  # embedding ~500 sentences costs seconds on a busy machine; the file saves that
            vectors = embedder.embed(_bank_texts(bank))
        self.crisis = vectors[: len(pairs)]
        self.contrast = vectors[len(pairs):]
        self.rows = {f: np.array([i for i, g in enumerate(self.groups) if family(g) == f]) for f in FAMILIES}

    def score(self, message: str) -> list[UnitScore]:
        """One score per sentence of `message`, in order."""
        units = split_units(message)
        if not units:
            return []
        vectors = self.embedder.embed(units)
        crisis = vectors @ self.crisis.T
        contrast = _top_mean(vectors @ self.contrast.T, self.bank.top_k)
        sims, nearest = {}, {}
        for f, rows in self.rows.items():
            if len(rows):
                sims[f] = _top_mean(crisis[:, rows], self.bank.top_k)
                nearest[f] = rows[crisis[:, rows].argmax(axis=1)]
        return [UnitScore(u, {f: float(s[i]) for f, s in sims.items()},
                          {f: (self.groups[n[i]], self.exemplars[n[i]]) for f, n in nearest.items()},
                          float(contrast[i])) for i, u in enumerate(units)]

    def flagged(self, scores: list[UnitScore], thresholds: dict[str, float] | None = None,
                margin: float | None = None, ruled_out: RuledOut | None = None) -> SemanticHit | None:
        """The most crisis-like sentence whose similarity clears its family's threshold and the margin, or None.

        `ruled_out(sentence)` names families the keyword rules already know it is not ("I don't want to hurt him")."""
        cut = {**self.bank.thresholds, **(thresholds or {})}
        m = self.bank.margin if margin is None else margin
        hits = [(sim, s, f) for s in scores for f, sim in s.sims.items()
                if sim >= cut[f] and sim - s.contrast_sim >= m]
        if ruled_out is not None:
            hits = [h for h in hits if h[2] not in ruled_out(h[1].text)]
        if not hits:
            return None
        sim, s, f = max(hits, key=lambda h: h[0] - cut[h[2]])
        group, exemplar = s.nearest[f]
        return SemanticHit(s.text, group, exemplar, sim, s.contrast_sim)


def _minilm() -> Any:
    """The real MiniLM model, whatever settings.embedder says: the hash fake has no notion of meaning."""
    from agent.embeddings import get_embedder

    return get_embedder("minilm")


class _Stage:
    """The process-wide scorer, built on first use under a lock; a failure is remembered and logged once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scorer: CrisisScorer | None = None
        self.error = ""

    def get(self) -> CrisisScorer | None:
        if self.scorer is not None or self.error:
            return self.scorer
        with self.lock:
            if self.scorer is None and not self.error:
                try:
                    self.scorer = CrisisScorer(load_bank(), _minilm())
                except Exception as exc:  # noqa: BLE001 - any failure must leave the keyword rules in charge
                    first = str(exc).splitlines()[0] if str(exc) else ""
                    self.error = f"{type(exc).__name__}: {first}"
                    log.warning("crisis check: meaning-based stage unavailable (%s); using keyword rules only",
                                self.error)
        return self.scorer


_STAGE = _Stage()


def semantic_stage() -> CrisisScorer | None:
    """The loaded scorer, or None when the model or bank cannot be loaded (already logged)."""
    return _STAGE.get()


def stage_error() -> str:
    """Why the meaning-based stage is off ("" when it is on or not yet loaded)."""
    return _STAGE.error


def reset_stage() -> None:
    """Forget the loaded scorer or the remembered failure (tests, or after fixing the model install)."""
    global _STAGE
    _STAGE = _Stage()


def semantic_crisis(message: str, ruled_out: RuledOut | None = None) -> SemanticHit | None:
    """The sentence that reads as a crisis statement, or None (also None when the stage is unavailable)."""
    scorer = semantic_stage()
    if scorer is None:
        return None
    try:
        return scorer.flagged(scorer.score(message), ruled_out=ruled_out)
    except Exception as exc:  # noqa: BLE001 - a runtime model fault must not take the keyword rules down with it
        log.warning("crisis check: meaning-based stage failed on a message (%s); keyword rules only",
                    type(exc).__name__)
        return None


if __name__ == "__main__":
    print(save_vectors(load_bank(), _minilm()))
