"""Reflections: their words given back, simply or with a feeling, a value, a reframe or both sides of a pull."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from agent.coach.lexicon import INNER_VERBS, NOUNS, feeling_word, gerund, own_feeling, third_person
from agent.coach.questions import QuestionBank, render
from agent.coach.quotes import (
    Phrase,
    clauses,
    is_intro,
    phrase_of,
    quoted_phrases,
    shift_pronouns,
    split_subject,
    strip_filler,
    trim,
)
from agent.coach.situations import Situation

COMPLEX = frozenset({"feeling", "named_feeling", "feeling_only", "meaning", "want", "reframe", "double",
                     "part_of_you", "second"})
SIMPLE = frozenset({"simple", "options", "asking"})
_TENSION = re.compile(r"\s*[,;]?\s*\b(?:but|yet|although|though|even\s+though|and\s+yet|at\s+the\s+same\s+time|"
                      r"whereas)\b\s*", re.I)
_HAS_SUBJECT = re.compile(r"^(?:(?i:i|i'm|i've|i'd|i'll|we|we're|they|they're|he|she|it|it's|you|my|our|their|"
                          r"there|that|this|everyone|nobody)|[A-Z][a-z]+)\b")
_PAIN = re.compile(r"\b(?:stopped|no\s+longer|anymore|keeps?|won't|can't|cannot|don't|doesn't|never|nobody|"
                   r"no\s+one|lost|missing|miss|alone|ignor\w*|avoid\w*|rolled|sigh\w*|laugh\w*|dismiss\w*|"
                   r"cut|block\w*|overrid\w*|blam\w*|complain\w*|clash\w*|late|worr\w*|afraid|fail\w*|"
                   r"push\w*\s+back|shot\s+down|shoots?\s+down|undermin\w*|only\s+when|barely|hardly|"
                   r"rewrite|redo|behind)\b")
_ASKS = re.compile(r"\?\s*$|\b(?:what\s+should\s+i|what\s+do\s+i\s+do|any\s+advice|can\s+you\s+suggest|"
                   r"tell\s+me\s+what|what\s+would\s+you)\b", re.I)
_UNSURE = re.compile(r"\b(?:i\s+don'?t\s+know|no\s+idea|not\s+sure)\b", re.I)
_GOAL = re.compile(r"^(?:the\s+thing\s+|what\s+)?(?:i\s+(?:really\s+|just\s+)?(?:want|would\s+like|hope|need)|"
                   r"i'd\s+(?:really\s+)?(?:like|love|want)|my\s+goal(?:\s+for\s+(?:this|the|next)\s+\w+)?\s+is)\s+"
                   r"(?:is\s+)?(?:for\s+)?(?P<rest>.+)$", re.I)
_OPTION = re.compile(r"^(?:maybe\s+|perhaps\s+|or\s+)?(?:i|we)\s+(?:could|might|can)\s+(?:also\s+)?(?P<a>.+)$|"
                     r"^(?:one|another|the\s+other)\s+(?:option|idea|possibility|way)?\s*is\s+(?:to\s+|that\s+i\s+)?"
                     r"(?:just\s+)?(?P<b>.+)$", re.I)
_BARE_VERBS = frozenset("grow make build lead help run get give take keep stop start learn spend ask tell find see "
                        "know have be do go work write hand coach develop protect trust let bring".split())
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|my|me|myself)\b", re.I)
_SUBORDINATE = re.compile(r"^(?:if|when|unless|until|because|although|though|as|while|whether|since|once)\b", re.I)
_TO_COACH = re.compile(r"\b(?:you|your|yours)\b", re.I)
_OBJ_TO = re.compile(r"^(?P<who>(?:them|him|her|us|people|the\s+team|my\s+team|everyone|\w+)(?:\s+\w+){0,7}?)\s+"
                     r"to\s+(?P<verb>\w+)(?P<tail>.*)$", re.I)


class Reflection(BaseModel):
    """A reflection sentence and which kind it was."""

    text: str
    kind: str  # simple | feeling | named_feeling | meaning | want | reframe | double | part_of_you | second |
    #            asking | acknowledge


def _score(clause: str, keywords: frozenset[str], peer: str, limit: int = 12) -> float:
    low = clause.lower()
    n = len(low.split())
    score = 1.0 if feeling_word(clause) else 0.0
    score += 2.0 if any(k in low for k in keywords if " " in k) else 0.0
    score += 1.5 if _stems(keywords) is not None and _stems(keywords).search(low) else 0.0
    score += 2.0 if _PAIN.search(low) else 0.0
    score += 1.0 if re.search(r"\b(?:i|my|me|myself|i'm|i've)\b", low) else 0.0
    score += 1.5 if re.match(r"(?:maybe\s+)?(?:i|i'm|i've|i'd|my|we|we're|our)\b", low) else 0.0
    score += 2.0 if peer and peer.split()[-1].lower() in low else 0.0
    score += 0.2 * min(n, 9) - (0.4 * (n - limit) if n > limit else 0.0)
    return score - (3.0 if is_intro(clause) else 0.0)


@lru_cache(maxsize=64)
def _stems(keywords: frozenset[str]) -> re.Pattern[str] | None:
    stems = sorted((k for k in keywords if " " not in k), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + ")") if stems else None


def ranked_phrases(message: str, keywords: frozenset[str] = frozenset(), peer: str = "",
                   limit: int = 12) -> list[Phrase]:
    """The clauses most worth giving back, best first, each whole and at most `limit` words."""
    out: list[Phrase] = []
    for q in quoted_phrases(message):
        out.append(Phrase(text=q, subject="", rest=q))
    options = [c for c in clauses(message) if not _ASKS.search(c) and not _SUBORDINATE.match(c)
               and not _TO_COACH.search(c) and not (_UNSURE.search(c) and len(c.split()) <= 6)]
    for clause in sorted(options, key=lambda c: -_score(c, keywords, peer, limit)):
        phrase = phrase_of(clause, limit)
        if phrase and all(phrase.rest.lower() not in p.rest.lower() for p in out):
            out.append(phrase)
    about = [p for p in out if not is_intro(p.text)]
    return about or out  # "I'm a pharmacist" only when nothing else is there to give back


def goal_of(message: str) -> str:
    """What they say they want, in the coach's voice ('being seen as fair'), or ''."""
    for clause in clauses(message):
        inner = re.search(r"\bi\s+(?:really\s+)?want\s+to\b", clause, re.I)
        m = _GOAL.match(clause.strip()) or (_GOAL.match(clause[inner.start():]) if inner else None)
        if not m or _ASKS.search(clause):
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
        elif (o := _OBJ_TO.match(rest)) and not o.group("who").lower().startswith(("to ", "a ", "an ", "that ", "this ", "it ")):
            rest = f"{o.group('who')} {gerund(o.group('verb'))}{_and_gerund(o.group('tail'))}"
        elif rest and not rest.lower().startswith(("that ", "this ", "it ")) and \
                not re.match(r"\w+ing\b", rest):
            rest = f"having {rest}"
        rest = trim(rest, 14) or ""
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
        a, b = (trim(x, 12) for x in (a, b))
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


class _Reading(BaseModel):
    """What a message offers to reflect: its best clause, their feeling, goal, options and any two-sidedness."""

    phrases: list[Phrase]
    event: Phrase
    named: str = ""
    where: str = ""
    goal: str = ""
    options: list[str] = []
    sides: tuple[str, str, bool] | None = None


def reflect(message: str, bank: QuestionBank, sit: Situation, *, turn_index: int,
            keywords: frozenset[str] = frozenset(), peer: str = "", limit: int = 12,
            spare: int = 0) -> list[Reflection]:
    """One reflection, complex for most turns; a second, different one when `spare` words allow."""
    phrases = ranked_phrases(message, keywords, peer, limit) or ranked_phrases(message, keywords, peer, 12)
    asked = their_question(message)
    if asked and (not phrases or len(message.split()) < 20):
        return [_make(bank, "asking", turn_index, question=asked)]
    named, where = own_feeling(clauses(message))
    if len(message.split()) >= 4 and not phrases:
        goal, sides = goal_of(message), tension(message)
        if sides:
            return [_make(bank, "part_of_you" if sides[2] else "double", turn_index, side_a=sides[0],
                          side_b=sides[1])]
        if goal:
            return [_make(bank, "want", turn_index, goal=goal)]
    if len(message.split()) < 4 or not phrases:
        return [Reflection(text=bank.template("acknowledge", turn_index), kind="acknowledge")]
    event = next((p for p in phrases if not (named and p.text in where) and not feeling_word(p.text)), None)
    if event is None and named:  # only the feeling itself to give back: name it, or reframe it
        if NOUNS.get(named) and turn_index % 2 == 0:
            return [_make(bank, "reframe", turn_index, noun=NOUNS[named],
                          value=goal_of(message) or sit.values[turn_index % len(sit.values)])]
        return [_make(bank, "feeling_only", turn_index, feeling=named)]
    reading = _Reading(phrases=phrases, event=event or phrases[0], named=named, where=where,
                       goal=goal_of(message), options=options_of(message), sides=tension(message))
    main = _main(reading, bank, sit, turn_index)
    extra = _extra(reading, main, bank, sit, turn_index, spare)
    if extra is None:
        return [main]
    return [main, extra] if extra.kind == "second" else [extra, main]


def _main(r: _Reading, bank: QuestionBank, sit: Situation, turn_index: int) -> Reflection:
    """The turn's reflection: both sides of a pull, their feeling, their options or goal, else by rotation."""
    event = r.event
    said = event.quoted if re.search(r"\byou", event.subject) and turn_index % 2 == 0 else event.plain
    value = sit.values[turn_index % len(sit.values)]
    feeling = sit.feelings[turn_index % len(sit.feelings)]
    noun = NOUNS.get(r.named, "")
    if r.sides and r.sides[0].lower() != r.sides[1].lower():
        kind = "part_of_you" if r.sides[2] else "double"
        return _make(bank, kind, turn_index, side_a=r.sides[0], side_b=r.sides[1])
    if r.named and (turn_index % 3 != 1 or not noun):
        return _make(bank, "named_feeling", turn_index, event=said, feeling=r.named)
    if r.named:
        return _make(bank, "reframe", turn_index, noun=noun, value=r.goal or value)
    if len(r.options) == 2:
        return _make(bank, "options", turn_index, option_a=r.options[0], option_b=r.options[1])
    if r.goal and (_GOAL.match(event.text) or (turn_index % 2 == 1 and not _PAIN.search(event.text.lower()))):
        return _make(bank, "want", 0 if r.goal.startswith("that ") else turn_index, goal=r.goal)
    kind = ("feeling", "meaning", "simple")[turn_index % 3]
    about_them = not re.search(r"\byou", event.subject)
    if kind == "feeling" and (r.options or not _PAIN.search(event.text.lower())):
        kind = "simple" if about_them else "meaning"  # "that must be draining" fits a difficulty, not a plan
    if about_them and kind == "meaning":
        # What matters to *them* does not follow from a fact about someone else; a hard fact may still sting.
        kind = "feeling" if _PAIN.search(event.text.lower()) else "simple"
    template = "simple_other" if kind == "simple" and about_them else kind
    main = _make(bank, template, turn_index // 3, event=said if kind != "simple" else event.plain,
                 feeling=feeling, value=value)
    main.kind = kind
    return main


def _extra(r: _Reading, main: Reflection, bank: QuestionBank, sit: Situation, turn_index: int,
           spare: int) -> Reflection | None:
    """A second reflection on another part of the message, when it fits in `spare` words."""
    if spare < 4 or main.kind in ("double", "part_of_you"):
        return None
    value = sit.values[turn_index % len(sit.values)]
    feeling = sit.feelings[turn_index % len(sit.feelings)]
    if main.kind in ("simple", "options"):
        second = _make(bank, "second", turn_index, value=value, feeling=feeling)
        return second if len(second.text.split()) <= spare else None
    if r.goal and main.kind != "want":
        want = _make(bank, "want", turn_index + 1, goal=r.goal)
        if len(want.text.split()) <= spare and r.goal.split()[-1] not in main.text:
            want.kind = "second"
            return want
    other = next((p for p in r.phrases if p is not r.event and p.rest not in main.text and p.text not in r.where
                  and re.search(r"\byou", p.subject) and p.words + 1 <= spare), None)
    if other:
        return _make(bank, "simple", turn_index + 1, event=other.plain)
    if main.kind in ("named_feeling", "feeling", "feeling_only"):
        second = _make(bank, "second", 0, value=value, feeling=feeling)  # the feeling, then what it protects
        return second if len(second.text.split()) <= spare else None
    return None


def _make(bank: QuestionBank, kind: str, index: int, **values: str) -> Reflection:
    text = render(bank.template(kind, index), **values)
    return Reflection(text=sentence(text), kind=kind)


def sentence(text: str) -> str:
    """One tidy sentence: spaces collapsed, first letter (even inside a quote) upper case, final stop."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([,;:.])", r"\1", text)
    i = 1 if text[:1] in "'\"‘“" else 0
    text = text[:i] + text[i:i + 1].upper() + text[i + 1:]
    return text if text.endswith((".", "?", "!")) else text + "."
