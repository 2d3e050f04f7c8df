"""Recognise the leadership situation in a message (and in the notes retrieval found for it)."""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator

from agent.core.resources import coach_data_dir, corpus_dir
from agent.core.types import Hit
from agent.core.yaml_data import check_regexes, load_model, parse_yaml

FALLBACK = "general"


class Situation(BaseModel):
    """One situation: how to spot it, which notes belong to it, and how it tends to feel and matter."""

    name: str
    label: str
    phrases: dict[str, float] = Field(default_factory=dict)
    keywords: dict[str, float] = Field(default_factory=dict)
    patterns: dict[str, float] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    title_words: list[str] = Field(default_factory=list)
    feelings: list[str] = Field(min_length=1)
    values: list[str] = Field(min_length=1)
    peer: bool = False
    stance: str = "neutral"

    @field_validator("phrases", "keywords")
    @classmethod
    def _lower(cls, v: dict[str, float]) -> dict[str, float]:
        return {k.lower(): w for k, w in v.items()}

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, v: dict[str, float]) -> dict[str, float]:
        check_regexes(v)
        return v

    def owns(self, source: str, title: str) -> bool:
        """Whether a note (by file name or title) belongs to this situation."""
        return _owns(self, source, title)

    def __hash__(self) -> int:
        return hash(self.name)

    def _owns(self, source: str, title: str) -> bool:
        if any(fnmatch.fnmatch(source.lower(), pat.lower()) for pat in self.sources):
            return True
        if self.tags and set(self.tags) & corpus_tags().get(source, frozenset()):
            return True
        low = title.lower()
        return any(w.lower() in low for w in self.title_words)


@lru_cache(maxsize=8192)
def _owns(sit: Situation, source: str, title: str) -> bool:
    return sit._owns(source, title)


@lru_cache(maxsize=1)
def corpus_tags() -> dict[str, frozenset[str]]:
    """Front-matter tags of the bundled corpus notes, by file name."""
    out: dict[str, frozenset[str]] = {}
    folder = corpus_dir()
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        head = path.read_text(encoding="utf-8", errors="replace")[:1500]
        m = re.match(r"---\n(.*?)\n---", head, re.S)
        if not m:
            continue
        try:
            meta = parse_yaml(m.group(1)) or {}
        except yaml.YAMLError:
            continue
        tags = meta.get("tags") if isinstance(meta, dict) else None
        if isinstance(tags, list):
            out[path.name] = frozenset(str(t).lower() for t in tags)
    return out


class SituationFile(BaseModel):
    """agent/coach/data/situations.yaml."""

    name: str
    version: int
    situations: list[Situation]

    @field_validator("situations")
    @classmethod
    def _has_fallback(cls, v: list[Situation]) -> list[Situation]:
        names = [s.name for s in v]
        if FALLBACK not in names:
            raise ValueError(f"a '{FALLBACK}' situation is required")
        if len(set(names)) != len(names):
            raise ValueError("situation names must be unique")
        return v


class Detection(BaseModel):
    """The best situation and every score, highest first."""

    name: str
    score: float
    scores: dict[str, float]


@lru_cache(maxsize=1)
def _default_path() -> str:
    return str(coach_data_dir() / "situations.yaml")


def load_situations(path: Path | None = None) -> dict[str, Situation]:
    """Situations by name, validated; a broken file is a one-line ConfigError."""
    return _as_dict(str(path) if path else _default_path())


@lru_cache(maxsize=4)
def _as_dict(path: str) -> dict[str, Situation]:
    return dict(_load(path))


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[tuple[str, Situation], ...]:
    parsed = load_model(path, SituationFile, "situations file")
    return tuple((s.name, s) for s in parsed.situations)


@lru_cache(maxsize=64)
def _stems_re(stems: tuple[str, ...]) -> re.Pattern[str] | None:
    if not stems:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + ")")


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def _text_score(sit: Situation, low: str) -> float:
    score = sum(w for p, w in sit.phrases.items() if p in low)
    score += sum(w for p, w in sit.patterns.items() if _regex(p).search(low))
    pattern = _stems_re(tuple(sit.keywords))
    if pattern is not None:
        score += sum(sit.keywords[stem] for stem in {m.group(1) for m in pattern.finditer(low)})
    return score


def score_text(text: str, situations: dict[str, Situation] | None = None) -> dict[str, float]:
    """Each situation's score for a piece of text (phrases as substrings, keywords as word stems)."""
    if situations is None:
        return dict(_default_scores(text))
    low = " ".join(text.lower().replace("’", "'").split())
    return {name: _text_score(sit, low) for name, sit in situations.items()}


@lru_cache(maxsize=1024)
def _default_scores(text: str) -> tuple[tuple[str, float], ...]:
    return tuple(score_text(text, load_situations()).items())


def detect(message: str, hits: list[Hit] = (), context: str = "",
           situations: dict[str, Situation] | None = None) -> Detection:
    """The situation that best fits the message, nudged by earlier context and by the notes retrieved."""
    sits = situations or load_situations()
    scoring = None if situations is None else sits
    scores = score_text(message, scoring)
    if context:
        for name, s in score_text(context, scoring).items():
            scores[name] += 0.4 * s
    for rank, hit in enumerate(hits[:4]):
        weight = 1.5 / (rank + 1)
        for name, sit in sits.items():
            if name != FALLBACK and sit.owns(hit.chunk.source, hit.chunk.title):
                scores[name] += weight
        for name, s in score_text(hit.chunk.text[:600], scoring).items():
            scores[name] += min(s, 6.0) * 0.1 / (rank + 1)
    scores[FALLBACK] = 0.0
    ranked = dict(sorted(scores.items(), key=lambda kv: -kv[1]))
    best, best_score = next(iter(ranked.items()))
    # Retrieved notes alone should not invent a situation the person never hinted at.
    message_only = score_text(message + " " + context, scoring)
    if best_score < 2.5 or message_only.get(best, 0) <= 0:
        best = FALLBACK
    return Detection(name=best, score=round(best_score, 3), scores=ranked)


def is_peer(name: str) -> bool:
    """Whether a situation is about a peer relationship (so openers fit)."""
    sit = load_situations().get(name)
    return bool(sit and sit.peer)
