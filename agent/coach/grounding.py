"""Word overlap between what the person said and a retrieved passage: how on topic a note is for a turn."""

from __future__ import annotations

import re

from agent.coach.situations import Situation
from agent.core.types import Hit

_STOP = set("""
a an the and or but so of to in on at for with from by as is are was were be been being it its this
that these those i me my you your we our they them their he she his her not no do does did have has
had will would can could should just about into than then there here what how which who when where
why very really more most some any all also only own same too up out over after before again further
once because while if right now every still really time way thing things want feel like make get got
good lot lots know think say said going much many even well back one two three new old day days week
weeks month months year years someone people something anything everything always never often maybe
doing down each having hers him let may might mine must myself nor off other ours shall such theirs under whom
whose yet yours yourself
""".split())
_SUFFIXES = ("ingly", "ings", "ing", "ions", "ion", "ments", "ment", "ness", "ers", "er", "ies", "ied", "ed", "es",
             "s", "ly", "y")


def stem(word: str) -> str:
    """A small suffix stripper, so 'delegating' and 'delegation' meet; deliberately cautious with short words."""
    for suffix in _SUFFIXES:
        if len(word) >= len(suffix) + 4 and word.endswith(suffix):
            word = word[:-len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def shared_words(a: str, b: str) -> set[str]:
    """Whole-word stems two texts share, stop words left out: how a reader would judge them on one topic."""
    def words(text: str) -> set[str]:
        found = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("’", "'"))
        return {stem(w) for w in found if w not in _STOP and len(w) > 2 and "'" not in w}

    return words(a) & words(b)


def content_words(text: str) -> set[str]:
    """Lower-cased word stems (first five letters) without stop words."""
    return {w[:5] for w in re.findall(r"[a-z']+", text.lower()) if w not in _STOP and len(w) > 2}


def relevance(hit: Hit, message: str, situation: Situation | None) -> float:
    """How well a passage fits the message: shared content words, plus a bonus for a note of the situation."""
    score = float(len(content_words(message) & content_words(hit.chunk.text)))
    owned = situation is not None and situation.owns(hit.chunk.source, hit.chunk.title)
    if owned and situation.name != "general":
        score += 3.0
    return score
