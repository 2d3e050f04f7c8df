"""What a message says beyond its clauses: the goal they name, the options they weigh, a pull, their question."""

from __future__ import annotations

import re

from agent.coach.advice_requests import asks_for_advice
from agent.coach.lexicon import INNER_VERBS, gerund, third_person
from agent.coach.quotes import (
    clauses,
    cuts_short,
    has_verb,
    shift_pronouns,
    split_subject,
    strip_filler,
    trim,
)

_TENSION = re.compile(r"\s*[,;]?\s*\b(?:but|yet|although|though|even\s+though|and\s+yet|at\s+the\s+same\s+time|"
                      r"whereas)\b\s*", re.I)
_HAS_SUBJECT = re.compile(r"^(?:(?i:i|i'm|i've|i'd|i'll|we|we're|they|they're|he|she|it|it's|you|my|our|their|"
                          r"there|that|this|everyone|nobody)|[A-Z][a-z]+)\b")
GOAL = re.compile(r"^(?:the\s+thing\s+|what\s+)?(?:i\s+(?:really\s+|just\s+)?(?:want|would\s+like|hope|need)|"
                  r"i'd\s+(?:really\s+)?(?:like|love|want)|my\s+goal(?:\s+for\s+(?:this|the|next)\s+\w+)?\s+is)\s+"
                  r"(?:is\s+)?(?:for\s+)?(?P<rest>.+)$", re.I)
_OPTION = re.compile(r"^(?:maybe\s+|perhaps\s+|or\s+)?(?:i|we)\s+(?:could|might|can)\s+(?:also\s+)?(?P<a>.+)$|"
                     r"^(?:one|another|the\s+other)\s+(?:option|idea|possibility|way)?\s*is\s+(?:to\s+|that\s+i\s+)?"
                     r"(?:just\s+)?(?P<b>.+)$", re.I)
_BARE_VERBS = frozenset("grow make build lead help run get give take keep stop start learn spend ask tell find see "
                        "know have be do go work write hand coach develop protect trust let bring".split())
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|my|me|myself)\b", re.I)
_NOT_WHO = ("to ", "a ", "an ", "that ", "this ", "it ")
_OBJ_TO = re.compile(r"^(?P<who>(?:them|him|her|us|people|the\s+team|my\s+team|everyone|\w+)(?:\s+\w+){0,7}?)\s+"
                     r"to\s+(?P<verb>\w+)(?P<tail>.*)$", re.I)


def asks(clause: str) -> bool:
    """Whether a clause is a question or a request for advice, so not something they state."""
    return clause.rstrip().endswith("?") or asks_for_advice(clause)


def goal_of(message: str) -> str:
    """What they say they want, in the coach's voice ('being seen as fair'), or ''."""
    for clause in clauses(message):
        inner = re.search(r"\bi\s+(?:really\s+)?want\s+to\b", clause, re.I)
        m = GOAL.match(clause.strip()) or (GOAL.match(clause[inner.start():]) if inner else None)
        if not m or asks(clause):
            continue
        rest = m.group("rest").strip(" ,.")
        cleft = re.match(r"^(?:to\s+)?(?:\w+\s+){0,4}?(?:more|less)\s+of\s+is\s+(.+)$", rest, re.I)
        if cleft:
            rest = cleft.group(1)  # "what I'd want to do more of is working with X" -> "working with X"
        if re.match(r"to\s+be\s+\w+ing\b", rest, re.I):
            rest = rest[6:]  # "to be doing more design" -> "doing more design"
        elif rest.lower().startswith("to "):
            verb, _, tail = rest[3:].partition(" ")
            if verb.lower() in ("keep", "continue") and re.match(r"\w+ing\b", tail):
                verb, _, tail = tail.partition(" ")  # "to keep shaping X" -> "shaping X"
            rest = f"{gerund(verb)} {_and_gerund(tail)}".strip()
        elif (o := _OBJ_TO.match(rest)) and not o.group("who").lower().startswith(_NOT_WHO):
            rest = f"{o.group('who')} {gerund(o.group('verb'))}{_and_gerund(o.group('tail'))}"
        elif rest and not rest.lower().startswith(("that ", "this ", "it ")) and \
                not re.match(r"\w+ing\b", rest):
            rest = f"having {rest}"
        full, short = rest, trim(rest, 10)
        rest = short if short and has_verb(short) else trim(rest, 14)  # "at least two people" says too little
        if rest and rest != full and cuts_short(full, rest):
            rest = full if len(full.split()) <= 16 else ""  # "without you having to jump [on a machine]"
        if len(rest.split()) >= 2:
            return shift_pronouns(rest)
    return ""


def _and_gerund(tail: str) -> str:
    """'... and actually grow someone' -> '... and actually growing someone', for a second verb of a goal."""
    return re.sub(r"\b(and\s+(?:actually\s+|also\s+|then\s+|just\s+)?)(\w+)\b",
                  lambda m: m.group(1) + (gerund(m.group(2)) if m.group(2).lower() in _BARE_VERBS else m.group(2)),
                  tail, count=1)


def options_of(message: str) -> list[str]:
    """The options they are weighing, in the coach's voice ('pair each newer operator with an old hand')."""
    found = []
    for clause in clauses(message):
        m = _OPTION.match(clause.strip())
        if m:
            text = trim((m.group("a") or m.group("b") or "").strip(" ,."), 9)
            if len(text.split()) >= 2:
                found.append(shift_pronouns(text))
    return found[:2]


def tension(message: str) -> tuple[str, str, bool] | None:
    """Both sides of a pull ('I want X but Y') in the coach's voice, and whether 'part of you' fits them."""
    text = re.sub(r"([.!?])\s+(But|Yet|Although)\s+", r" but ", message.replace("’", "'"))
    for clause in re.split(r"(?<=[.!?;])\s+", text):
        parts = _TENSION.split(strip_filler(clause), maxsplit=1)
        if len(parts) != 2 or any(len(p.split()) < 2 for p in parts):
            continue
        a, b = (strip_filler(p) for p in parts)
        b = re.sub(r"^also\s+", "", b)
        if re.match(r"(?:that|when|if|because)\b", b, re.I):
            continue  # "now that leading is the whole job, ...": a circumstance, not the other side
        inner = re.match(r"^i\s+(\w+)(?:\s+to)?\b", a, re.I)
        if not _HAS_SUBJECT.match(b) and inner and inner.group(1).lower() in INNER_VERBS:
            b = f"I {a.split()[1]} {'to ' if ' to ' in a.lower()[:20] else ''}{b}"
        if not (_HAS_SUBJECT.match(a) and _HAS_SUBJECT.match(b)) or not _FIRST_PERSON.search(f"{a} {b}"):
            continue  # two sides of their own pull, not two facts about other people
        a, b = (trim(x, 12, parsed=True) for x in (a, b))
        if not (a and b):
            continue  # a side too long to give back whole
        sides = [_part(a), _part(b)]
        if all(sides):
            return sides[0], sides[1], True
        return _voice(a), _voice(b), False
    return None


def _part(side: str) -> str:
    """'I want to stay myself' -> 'wants to stay yourself', when the side is about what they want or feel."""
    m = re.match(r"^(?:i|i'm|i'd)\s+(\w+)\b(.*)$", side.strip(" ,."), re.I)
    first = side.split()[0].lower()
    if not m or (first == "i" and m.group(1).lower() not in INNER_VERBS):
        return ""
    verb = {"i'm": "is " + m.group(1), "i'd": "would " + m.group(1)}.get(first, third_person(m.group(1)))
    return shift_pronouns(f"{verb}{m.group(2)}").strip()


def _voice(side: str) -> str:
    subject, rest = split_subject(side.strip(" ,."))
    return f"{subject} {rest}".strip()


def their_question(message: str) -> str:
    """Their own question in the coach's voice ('how other managers let go ...'), or '' for none or advice."""
    for clause in clauses(message.replace("?", "?.")):
        if not clause.endswith("?") or re.search(r"\b(?:should\s+i|advice|suggest|tell\s+me)\b", clause, re.I):
            continue
        q = shift_pronouns(clause.rstrip("?").strip())
        m = re.match(r"^what(?:'s|\s+is)\s+(the\s+\w+)\s+(.+)$", q, re.I)
        if m:
            return _short(f"what {m.group(1)} is {m.group(2)}")
        m = re.match(r"^(how|what|where|when|why|who|which)\s+(do|does|did)\s+(.+)$", q, re.I)
        if m:
            return _short(f"{m.group(1).lower()} {m.group(3)}")
        m = re.match(r"^(how|what|where|when|why|who|which)\s+(would|can|could|should|will|is|are)\s+"
                     r"(it|you|they|we|he|she|this|that|the\s+\w+(?:\s+\w+)?)\s+(.+)$", q, re.I)
        if m:
            return _short(f"{m.group(1).lower()} {m.group(3)} {m.group(2)} {m.group(4)}")
        if re.match(r"^(?:what|how|who|which)\s+(?!is\b|are\b|'s\b)\w+", q, re.I) and "'s " not in q[:7]:
            return _short(q[:1].lower() + q[1:])
    return ""


def _short(question: str) -> str:
    """Their question cut at a phrase boundary to about twelve words, or whole when it cannot be cut cleanly."""
    return trim(question, 12) or question
