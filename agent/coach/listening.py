"""When a reflection stands alone, with no question after it: reflective listening after a disclosure (MI)."""

from __future__ import annotations

import re

from agent.coach.grounding import shared_words
from agent.coach.lexicon import feeling_word
from agent.core.types import Phase

# What they reveal of themselves, which a question would rush past: a fear, an admission, a realisation.
_DISCLOSES = re.compile(
    r"\b(?:i(?:'m|\s+am)\s+(?:a\s+bit\s+|really\s+|so\s+|quite\s+)?(?:scared|afraid|frightened|terrified|worried|"
    r"ashamed|embarrassed)|i\s+(?:worry|fear|dread|panic)|i\s+(?:now\s+)?reali[sz]e|it\s+(?:just\s+)?hit\s+me|"
    r"if\s+i'm\s+(?:being\s+)?honest|to\s+be\s+honest|the\s+truth\s+is|i've\s+never\s+(?:really\s+)?(?:said|told|admitted)|"
    r"(?:when|now\s+that)\s+i\s+(?:put|say)\s+it\s+like\s+that|i\s+think\s+i(?:'m|\s+am)\s+(?:scared|afraid|"
    r"worried|hiding|avoiding|the\s+(?:problem|bottleneck|reason))|i'm\s+the\s+(?:problem|bottleneck)|"
    r"that's\s+been\s+my\s+identity|i\s+see\s+now)\b", re.I)
# A reflection of what they said that goes past the words (MITI's complex reflection); a plain restatement alone
# would stall, and a situation's stock feeling ("That sounds frustrating") may be about someone else's.
COMPLEX_KINDS = frozenset({"named_feeling", "meaning", "reframe", "double", "part_of_you"})
MIN_WORDS = 10  # a short answer needs a question to work with


def discloses(message: str) -> bool:
    """Whether the message reveals a fear, an admission or a realisation of the speaker's own."""
    return bool(_DISCLOSES.search(message.replace("’", "'")))


def stands_alone(message: str, kinds: list[str], *, phase: Phase, turn_index: int, last_coach: str,
                 fear: str = "") -> bool:
    """Whether this turn's reflection should be the whole reply: they disclosed something, the coach asked last
    turn (never two turns running without a question), and the reflection gives back their fear or carries more
    than their words."""
    if turn_index < 1 or phase not in ("goal", "reality", "options"):
        return False
    if "?" not in last_coach or len(message.split()) < MIN_WORDS:
        return False
    return discloses(message) and (bool(fear) or any(k in COMPLEX_KINDS for k in kinds))


_FEARS = frozenset("scared afraid frightened terrified worried worry fear dread nervous anxious".split())


def fear_of(message: str, limit: int = 20) -> str:
    """Their fear given back whole in the second person ("You're scared that if you let go, quality slips"), or ""
    when they voice none of their own or it will not fit in `limit` words uncut."""
    from agent.coach.nlp import parse, to_you

    doc = parse(message.replace("’", "'"))
    for tok in doc:
        if tok.lemma_.lower() not in _FEARS and tok.lower_ not in _FEARS:
            continue
        head = tok if tok.pos_ in ("VERB", "AUX") else tok.head  # "I'm scared": the subject hangs on "'m"
        subj = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subj is None or subj.lower_ != "i" or any(c.dep_ == "neg" for c in (*head.children, *tok.children)):
            continue  # "she's worried", "the fear is": not theirs to give back as theirs
        # to the sentence's end, not the parse's subtree: "scared that if I let go, quality slips" is often
        # parsed with "slips" as a noun hanging elsewhere, and a fear cut short is a fear misheard
        span = doc[subj.i:tok.sent.end]
        if len(span.text.split()) > limit or len(span) < 3:
            return ""
        text = to_you(span.text.strip(" ,;:-"))
        return text[0].upper() + text[1:].rstrip(".") + "."
    return ""


def fear_first(message: str, texts: list[str], kinds: list[str], room: int, *, whole: bool = False
               ) -> tuple[list[str], list[str]]:
    """The reflections with their fear first, in their words, and at most one other that does not repeat it;
    unchanged when they voice none. whole: the turn asks nothing, so the fear may take the question's words."""
    fear = fear_of(message, limit=room + (4 if whole else 0))
    if not fear:
        return texts, kinds
    rest = [t for t in texts if not feeling_word(t) and len(shared_words(t, fear)) < 3 and len(t.split()) >= 5]
    out = [fear] + [t for t in rest[:1] if len(fear.split()) + len(t.split()) <= room]
    return out, ["named_feeling"] + ["simple"] * (len(out) - 1)


def listens(message: str, kinds: list[str], *, phase: Phase, turn_index: int, last_coach: str, budget: int) -> bool:
    """Whether this turn reflects without asking (see stands_alone); not on pushback or a question of theirs."""
    from agent.coach.advice_requests import pushback_kind
    from agent.coach.reading import their_question

    if pushback_kind(message) or their_question(message):
        return False
    return stands_alone(message, kinds, phase=phase, turn_index=turn_index, last_coach=last_coach,
                        fear=fear_of(message, limit=budget + 4))
