"""Which open question to ask: this situation and phase first, fitted to what they just said and to the note."""

from __future__ import annotations

import re

from agent.coach.grounding import content_words
from agent.coach.questions import QuestionBank, normalise, opens_any, render, variables
from agent.coach.quotes import Phrase

ORDER = ("goal", "reality", "options", "will")
GENERAL = "general"


def topical(phrase: Phrase, keywords: frozenset[str], peer: str) -> bool:
    """Whether a phrase is about this situation (names the peer or one of its words): safe to quote back."""
    low = phrase.text.lower()
    if peer and any(w.lower() in low for w in peer.split() if len(w) > 2 and w[0].isupper()):
        return True
    return any(re.search(rf"\b{re.escape(k)}", low) for k in keywords)


def their_words_for(phrases: list[Phrase], used_in_reflection: str, keywords: frozenset[str],
                    peer: str) -> str | None:
    """'Priya 'keeps overriding your priorities'' for a 'When you say ...' question, or None.

    Only a short clause with its own subject, on this topic, and not the one just reflected, so the question
    never mixes a quote from one topic into a question about another.
    """
    for p in phrases:
        if p.subject and p.words <= 9 and p.text not in used_in_reflection and \
                p.rest not in used_in_reflection and topical(p, keywords, peer):
            return p.quoted
    return None


def choose(bank: QuestionBank, situation: str, phase: str, *, qvars: dict[str, str | None], asked: set[str],
           used: set[str], focus: str, ground: str = "", budget: int = 99, past: bool = False) -> str:
    """A fresh open question: best fit within the first group (situation/phase, general/phase, ...) that has one."""
    later = [p for p in ORDER if p != phase]
    groups = [(situation, phase), (GENERAL, phase)] + [(situation, p) for p in later] + \
             [(GENERAL, p) for p in later] + [(s, p) for s in bank.questions for p in ORDER]
    known = {k for k, v in qvars.items() if v}
    values = {k: v for k, v in qvars.items() if v}
    want, notes = content_words(focus), content_words(ground)
    on_topic = _topic_question(bank, phase, values, asked, used, past) if values.get("topic") else ""
    seen: set[tuple[str, str]] = set()
    for group in groups:
        if group in seen:
            continue
        seen.add(group)
        best, best_score, best_shared = "", float("-inf"), 0
        for i, tpl in enumerate(bank.questions.get(group[0], {}).get(group[1], [])):
            if tpl in used or not variables(tpl) <= known or "{topic}" in tpl:
                continue  # a {topic} question comes only through on_topic, below
            text = render(tpl, **values)
            if normalise(text) in asked:
                continue
            words = content_words(tpl)
            score = 1.0 * len(words & want) + 0.5 * len(words & notes) - 0.15 * i
            score += 1.5 if "{their_words}" in tpl else 0.0
            score += 0.8 if "{peer}" in tpl else 0.0
            score -= 0.4 * max(0, len(text.split()) - budget)
            if score > best_score:
                best, best_score, best_shared = text, score, len(words & want)
        if best:
            # a question that shares no word with what they just said follows nothing: ask about their thing
            return on_topic if on_topic and best_shared == 0 and "{their_words}" not in best else best
    return "What stands out to you most, now that you've put it into words?"


def _topic_question(bank: QuestionBank, phase: str, values: dict[str, str], asked: set[str], used: set[str],
                    past: bool = False) -> str:
    """The first fresh general question of this phase about their topic ("What is happening with {topic} ..."),
    asked about then, not now, when the topic comes from a story told in the past."""
    told = [t for t in bank.templates["past_topic"] if past and phase in ("goal", "reality") and
            not opens_any(t, asked)]  # each asked once a session
    for tpl in told + bank.questions.get(GENERAL, {}).get(phase, []):
        if "{topic}" in tpl and tpl not in used and variables(tpl) <= set(values):
            text = render(tpl, **values)
            if normalise(text) not in asked:
                return text
    return ""
