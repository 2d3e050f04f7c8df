"""Meaning-based crisis check: each sentence vs a bank of crisis statements and a contrast bank of idioms (MiniLM)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agent.core.once import LoadOnce
from agent.index.embeddings import embed_query
from agent.safety.bank import (
    FAMILIES,
    ExemplarBank,
    bank_texts,
    family,
    load_bank,
    save_vectors,
    stored_vectors,
)

log = logging.getLogger(__name__)

MAX_UNITS = 256  # a message is capped at 8000 characters upstream; this only bounds pathological input
_SENTENCE = re.compile(r"(?<=[.!?…;])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
RuledOut = Callable[[str], Collection[str]]


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
        vectors = stored_vectors(bank, embedder.name, vectors_file)
        if vectors is None:  # embedding ~500 sentences costs seconds on a busy machine; the file saves that
            vectors = embedder.embed(bank_texts(bank))
        self.crisis = vectors[: len(pairs)]
        self.contrast = vectors[len(pairs):]
        self.rows = {f: np.array([i for i, g in enumerate(self.groups) if family(g) == f]) for f in FAMILIES}

    def score(self, message: str) -> list[UnitScore]:
        """One score per sentence of `message`, in order."""
        return self.score_units(split_units(message))

    def score_units(self, units: list[str]) -> list[UnitScore]:
        """One score per given text, in order."""
        if not units:
            return []
        if len(units) == 1:
            # a one-sentence message is also the retrieval query: the cached path lets retrieval reuse this vector
            vectors = np.asarray(embed_query(self.embedder, units[0]))[None, :]
        else:
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
                margin: float | None = None, ruled_out: RuledOut | None = None,
                slack: float = 0.0) -> SemanticHit | None:
        """The most crisis-like sentence whose similarity clears its family's threshold and the margin, or None.

        `ruled_out(sentence)` names families the keyword rules already know it is not ("I don't want to hurt him");
        `slack` lowers the similarity cut-offs, not the margin (the check-in tier)."""
        cut = {**self.bank.thresholds, **(thresholds or {})}
        m = self.bank.margin if margin is None else margin
        hits = [(sim, s, f) for s in scores for f, sim in s.sims.items()
                if sim >= cut[f] - slack and sim - s.contrast_sim >= m]  # near an idiom stays an idiom
        if ruled_out is not None:
            hits = [h for h in hits if h[2] not in ruled_out(h[1].text)]
        if not hits:
            return None
        sim, s, f = max(hits, key=lambda h: h[0] - cut[h[2]])
        group, exemplar = s.nearest[f]
        return SemanticHit(s.text, group, exemplar, sim, s.contrast_sim)

    def assess(self, message: str, ruled_out: RuledOut | None = None) -> tuple[SemanticHit | None, SemanticHit | None]:
        """(crisis, near): the crisis sentence, else the sentence close enough to earn a check-in, else Nones."""
        scores = self.score(message)
        hit = self.flagged(scores, ruled_out=ruled_out)
        if hit is not None or self.bank.check_in <= 0:
            return hit, None
        return None, self.flagged(scores, ruled_out=ruled_out, slack=self.bank.check_in)


def _minilm() -> Any:
    """The real MiniLM model, whatever settings.embedder says: the hash fake has no notion of meaning."""
    from agent.index.embeddings import get_embedder

    return get_embedder("minilm")


def _loader() -> LoadOnce[CrisisScorer]:
    return LoadOnce(lambda: CrisisScorer(load_bank(), _minilm()),
                    "crisis check: meaning-based stage unavailable (%s); using keyword rules only", log)


_STAGE = _loader()


def semantic_stage() -> CrisisScorer | None:
    """The loaded scorer, or None when the model or bank cannot be loaded (already logged)."""
    return _STAGE.get()


def stage_error() -> str:
    """Why the meaning-based stage is off ("" when it is on or not yet loaded)."""
    return _STAGE.error


def stage_status() -> str:
    """"on", "off (<why>)" or "not loaded", without loading anything."""
    return _STAGE.status()


def reset_stage() -> None:
    """Forget the loaded scorer or the remembered failure (tests, or after fixing the model install)."""
    global _STAGE
    _STAGE = _loader()


def semantic_crisis(message: str, ruled_out: RuledOut | None = None) -> SemanticHit | None:
    """The sentence that reads as a crisis statement, or None (also None when the stage is unavailable)."""
    return semantic_assess(message, ruled_out)[0]


def semantic_assess(message: str, ruled_out: RuledOut | None = None) -> tuple[SemanticHit | None, SemanticHit | None]:
    """(crisis, near-crisis) sentences of `message`; (None, None) when the stage is unavailable."""
    scorer = semantic_stage()
    if scorer is None:
        return None, None
    try:
        return scorer.assess(message, ruled_out=ruled_out)
    except Exception as exc:  # noqa: BLE001 - a runtime model fault must not take the keyword rules down with it
        log.warning("crisis check: meaning-based stage failed on a message (%s); keyword rules only",
                    type(exc).__name__)
        return None, None


if __name__ == "__main__":
    print(save_vectors(load_bank(), _minilm()))
