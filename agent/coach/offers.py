"""What a turn leans on from the notes: the passage that grounds it, and now and then one idea, offered lightly."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, field_validator

from agent.coach.advice_requests import request_or_unsure_pattern
from agent.coach.grounding import content_words, relevance, shared_words
from agent.coach.situations import Situation
from agent.core.resources import coach_data_dir
from agent.core.types import Hit
from agent.core.yaml_data import load_model

MIN_SHARED = 2  # content words a cited passage must share with the person's words to count as on topic
MAX_IDEA_WORDS = 22
STUCK = re.compile(r"\b(?:i\s+don'?t\s+know|no\s+idea|not\s+sure\s+(?:how|what|where|yet)|i'?m\s+stuck|"
                   r"can'?t\s+think|don'?t\s+know\s+how|at\s+a\s+loss)\b", re.I)
# "How do other managers ...?", "What makes ... land?": asking how it is done, not what to do.
ASKS_HOW = re.compile(r"\b(?:how\s+do\s+(?:other|most|good|people|leaders|managers)|how\s+(?:do|does|can)\s+"
                      r"(?:you|one|a\s+leader|a\s+manager)|what\s+makes|what'?s\s+the\s+difference|"
                      r"what\s+would\s+it\s+look\s+like|how\s+could\s+(?:the|a|my|we))\b", re.I)


def substantive(message: str) -> bool:
    """Whether a message says enough on its own to search or match by ('What should I do?' does not)."""
    return len(re.findall(r"[A-Za-z]{4,}", request_or_unsure_pattern().sub(" ", message))) >= 5


class IdeaFile(BaseModel):
    """agent/coach/data/ideas.yaml: short ideas by the corpus note they paraphrase."""

    name: str
    version: int
    notes: dict[str, list[str]]

    @field_validator("notes")
    @classmethod
    def _short_phrases(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for source, ideas in v.items():
            for idea in ideas:
                if len(idea.split()) > MAX_IDEA_WORDS or idea.rstrip().endswith((".", "?", "!")):
                    raise ValueError(f"{source}: an idea is a short phrase without a full stop: {idea!r}")
        return v


class Offer(BaseModel):
    """An idea and the retrieved passage it paraphrases."""

    idea: str
    hit: Hit


@lru_cache(maxsize=4)
def load_ideas(path: str = "") -> IdeaFile:
    """The validated ideas; a broken file is a one-line ConfigError."""
    where = Path(path) if path else coach_data_dir() / "ideas.yaml"
    return load_model(where, IdeaFile, "ideas file")


@lru_cache(maxsize=512)
def _words(text: str) -> frozenset[str]:
    return frozenset(content_words(text))


def grounding_hit(hits: list[Hit], text: str, situation: Situation | None, said: str = "",
                  min_shared: int = MIN_SHARED) -> Hit | None:
    """The retrieved passage that fits the person's words best; None when none shares enough with what they said.

    `text` ranks the passages (it may include earlier messages); `said` (this turn's words, by default `text`) is
    what a citation must share at least `min_shared` words with, so it is on topic for this very turn.
    """
    said = said or text
    best, best_score = None, 0.0
    for rank, hit in enumerate(hits[:4]):
        if len(shared_words(said, hit.chunk.text)) < min_shared:
            continue
        score = relevance(hit, text, situation) - 0.5 * rank
        if score > best_score:
            best, best_score = hit, score
    return best


def idea_for(hits: list[Hit], text: str, avoid: set[str] = frozenset(),
             situation: Situation | None = None, max_words: int = MAX_IDEA_WORDS) -> Offer | None:
    """The idea, among those of the notes retrieved this turn, that speaks most to the person's words.

    An idea must share two words with what they said (one, for a note of their situation), and two with the
    passage it is cited to, so the citation is on topic for the reply that carries the idea.
    """
    ideas = load_ideas().notes
    want = _words(text)
    best, best_score = None, 0.0
    for rank, hit in enumerate(hits[:4]):
        chunk = _words(hit.chunk.text)
        owned = situation is not None and situation.name != "general" and \
            situation.owns(hit.chunk.source, hit.chunk.title)
        for idea in ideas.get(hit.chunk.source, []):
            if idea in avoid or len(idea.split()) > max_words or len(shared_words(idea, hit.chunk.text)) < MIN_SHARED:
                continue
            mine = _words(idea)
            fit = len(mine & want)
            if fit < (1 if owned else 2):
                continue
            score = 1.0 * fit + 0.5 * len(mine & chunk) + (1.0 if owned else 0.0) - 0.3 * rank
            if score > best_score:
                best, best_score = Offer(idea=idea, hit=hit), score
    return best


def asked_idea(hits: list[Hit], text: str, avoid: set[str] = frozenset(),
               situation: Situation | None = None) -> Offer | None:
    """For an explicit request: the best-fitting idea, else the first idea of the best-ranked note retrieved
    (the person asked, and the notes retrieved for their situation are the grounded answer there is)."""
    best = idea_for(hits, text, avoid, situation)
    if best is not None:
        return best
    ideas = load_ideas().notes
    for hit in hits[:3]:
        for idea in ideas.get(hit.chunk.source, []):
            if idea not in avoid and len(shared_words(idea, hit.chunk.text)) >= MIN_SHARED:
                return Offer(idea=idea, hit=hit)
    return None
