"""Pick the retrieved passage worth leaning on this turn, and the one sentence of it worth offering."""

from __future__ import annotations

import re

from agent.coach.situations import Situation
from agent.types import Hit

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
_STORY = re.compile(r"^(?:right\s+now|for\s+example|example|e\.g\.|once|one\s+day|last\s+year|"
                    r"in\s+one\s+case|they\s+(?:describe|say|said|found)|the\s+client|a\s+client)\b", re.I)
_THIRD_PERSON = re.compile(r"\b(?:he|his|him|she|her|hers)\b", re.I)  # a story about someone, not an idea
_META = re.compile(r"^(?:the\s+(?:article|author|writer|coach|note|seed|post)|in\s+our\s+own\s+words|"
                   r"this\s+note|"
                   r"see\s|for\s+more|source|link|title|tags?:|author:)", re.I)


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


def sentences(text: str) -> list[str]:
    """Prose sentences of a chunk, markdown markers removed."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        # List items lose their heading's context ("patterns to avoid:"), so only prose is offered.
        if not line or line.startswith(("#", "---", "|", "```", "-", "*", "+")) or re.match(r"\d+[.)]\s",
                                                                                              line):
            continue
        lines.append(re.sub(r"^>+\s*", "", line))
    prose = " ".join(lines)
    prose = re.sub(r"\*\*?|__|`", "", prose)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'“])", prose) if s.strip()]


def best_sentence(hit: Hit, message: str, situation: Situation | None = None) -> str:
    """The sentence of a passage that speaks most to the message; '' when none reads well on its own."""
    want = content_words(message)
    if situation is not None:
        want |= {k[:5] for k in situation.keywords}
    best, best_score = "", 0.0
    for s in sentences(hit.chunk.text):
        n = len(s.split())
        if n < 7 or n > 38 or s.endswith("?") or "http" in s or ":" in s[-3:] or "[instruction" in s:
            continue
        if _META.match(s) or _STORY.match(s) or _THIRD_PERSON.search(s):
            continue
        words = content_words(s)
        if not words & want:
            continue
        score = 2.0 * len(words & want) + 0.3 * min(len(words), 12) / 12
        score += 0.5 if re.search(r"\byou(r)?\b", s, re.I) else 0.0
        if score > best_score:
            best, best_score = s, score
    if best and not best.endswith((".", "!")):
        best += "."
    return best


def relevance(hit: Hit, message: str, situation: Situation | None) -> float:
    """How well a passage fits the message: shared content words, plus a bonus for a note of the situation."""
    score = float(len(content_words(message) & content_words(hit.chunk.text)))
    owned = situation is not None and situation.owns(hit.chunk.source, hit.chunk.title)
    if owned and situation.name != "general":
        score += 3.0
    return score


def grounding(hits: list[Hit], message: str, situation: Situation | None,
              min_relevance: float = 3.0) -> tuple[Hit, str] | None:
    """The passage to cite (of the top three, by fit) and its idea; None when nothing fits well enough."""
    ranked = sorted(enumerate(hits[:3]), key=lambda ih: (-relevance(ih[1], message, situation), ih[0]))
    for _, hit in ranked:
        if relevance(hit, message, situation) < min_relevance:
            break
        idea = best_sentence(hit, message, situation)
        if idea:
            return hit, idea
    return None
