"""Reflections: their words given back, simply or with a feeling, a value, a reframe or both sides of a pull."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from agent.coach.implied import repeats, says
from agent.coach.lexicon import NOUNS, feeling_word, own_feeling
from agent.coach.nlp import fronted_name
from agent.coach.questions import QuestionBank, render
from agent.coach.quotes import Phrase, clauses, is_intro, phrase_of, quoted_phrases
from agent.coach.reading import GOAL, asks, goal_of, options_of, tension, their_question
from agent.coach.situations import Situation

COMPLEX = frozenset({"feeling", "named_feeling", "feeling_only", "meaning", "want", "reframe", "double",
                     "part_of_you", "second"})
_PAIN = re.compile(r"\b(?:stopped|no\s+longer|anymore|keeps?|won't|can't|cannot|don't|doesn't|never|nobody|"
                   r"no\s+one|lost|missing|miss|alone|ignor\w*|avoid\w*|rolled|sigh\w*|laugh\w*|dismiss\w*|"
                   r"cut|block\w*|overrid\w*|blam\w*|complain\w*|clash\w*|late|worr\w*|afraid|fail\w*|"
                   r"push\w*\s+back|shot\s+down|shoots?\s+down|undermin\w*|only\s+when|barely|hardly|"
                   r"rewrite|redo|behind)\b")
# "I don't know." says nothing to give back; "not sure I like it" does
_UNSURE = re.compile(r"^(?:ok\w*\s+|so\s+|um+\s+|honestly\s+)?(?:i\s+)?(?:really\s+|genuinely\s+)?(?:don'?t\s+know|"
                     r"have\s+no\s+idea|no\s+idea|not\s+sure|dunno)(?:\s+(?:yet|really|honestly|tbh))?[\s.,!]*$", re.I)
_SUBORDINATE = re.compile(r"^(?:if|when|unless|until|because|although|though|as|while|whether|since|once)\b", re.I)
_TO_COACH = re.compile(r"\b(?:you|your|yours)\b", re.I)
GOAL_AS_VALUE = 6  # words; a longer goal given back as a value makes the coach out-talk the client
_MUST = re.compile(r"\byou\s+(?:have\s+to|need\s+to|must|should|ought\s+to|had\s+better|'d\s+better)\b", re.I)
_ON_QUESTION = re.compile(r"\bquestions?\b", re.I)  # "that's a weird question" is about the coach, not them
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")  # their own words, quoted: licensed by definition
# a remark about the talk itself ("I did not think about it like this before") says less than what it is about
_META = re.compile(r"\b(?:(?:think|thought)\s+(?:about|of)\s+it\s+(?:like|that\s+way)|(?:said|say)\s+(?:that|it|this)\s+"
                   r"out\s+loud|put\s+it\s+like\s+(?:this|that))", re.I)
_OWN_IDEA = re.compile(r"(?:maybe|perhaps)[,\s]+(?:i|we)\s+(?:could|might|can|should)\b")


class Reflection(BaseModel):
    """A reflection sentence and which kind it was."""

    text: str
    kind: str  # simple | feeling | named_feeling | meaning | want | reframe | double | part_of_you | second |
    #            asking | acknowledge


def _score(clause: str, keywords: frozenset[str], peer: str, n: int) -> float:
    """How much a clause wants giving back; `n` is the length of the phrase it would be quoted as."""
    low = clause.lower()
    score = 1.0 if feeling_word(clause) else 0.0
    score += 1.5 if any(k in low for k in keywords if " " in k) else 0.0
    score += 1.0 if _stems(keywords) is not None and _stems(keywords).search(low) else 0.0
    score += 3.0 if _PAIN.search(low.replace("don't know", "")) else 0.0  # what hurts most wants hearing back
    score += 1.0 if re.search(r"\b(?:i|my|me|myself|i'm|i've)\b", low) else 0.0
    score += 0.5 if re.match(r"(?:maybe\s+)?(?:i|i'm|i've|i'd|my|we|we're|our)\b", low) else 0.0
    score += 2.0 if peer and peer.split()[-1].lower() in low else 0.0
    score += 2.5 if _OWN_IDEA.match(low) else 0.0  # their own idea is what an options turn gives back first
    score += 0.2 * min(n, 9)
    return score - (3.0 if is_intro(clause) else 0.0) - (3.0 if _META.search(low) else 0.0)


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
    options = [c for c in clauses(message) if not asks(c) and not _SUBORDINATE.match(c)
               and not _TO_COACH.search(c) and not _UNSURE.match(c.strip())
               and not (_ON_QUESTION.search(c) and len(c.split()) <= 7) and not fronted_name(c)]
    scored = [(p, _score(c, keywords, peer, p.words)) for c in options if (p := phrase_of(c, limit))]
    for phrase, _ in sorted(scored, key=lambda ps: -ps[1]):
        if all(phrase.rest.lower() not in p.rest.lower() for p in out):
            out.append(phrase)
    about = [p for p in out if not is_intro(p.text)]
    return about or out  # "I'm a pharmacist" only when nothing else is there to give back


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
            spare: int = 0, client: str = "", coach_said: str = "") -> list[Reflection]:
    """One or two reflections, each licensed by what the client said (`client`: the session so far)."""
    out = _reflect(message, bank, _licensed(sit, client or message, message, coach_said), turn_index=turn_index,
                   keywords=keywords, peer=peer, limit=limit, spare=spare)
    return faithful(out, client or message, bank, message, turn_index, keywords, peer, limit)


def _licensed(sit: Situation, client: str, message: str, coach_said: str = "") -> Situation:
    """The situation's feelings and values cut to those the client's words license (and not said already)."""
    from agent.coach.implied import unlicensed

    said = coach_said.lower()
    # frame_ok=False: the frame's "right" or "work" does not license "doing right by people" as their value
    feelings = [f for f in sit.feelings if not unlicensed(f, client, frame_ok=False) and f.lower() not in said]
    values = [v for v in sit.values if not unlicensed(v, client, frame_ok=False, own=True) and v.lower() not in said]
    named = own_feeling(clauses(client))[0]
    goal = goal_of(message) or goal_of(client)  # what they said they want links this event to it
    goal = "" if goal.lower() in said else goal  # once is a reflection; every turn is a refrain
    return sit.model_copy(update={"feelings": feelings or ([named] if named else []),
                                  "values": values or ([goal] if goal and not goal.startswith("that ")
                                                       and len(goal.split()) <= GOAL_AS_VALUE else [])})


def _pick(items: list[str], i: int) -> str:
    return items[i % len(items)] if items else ""


def faithful(refl: list[Reflection], client: str, bank: QuestionBank, message: str, turn_index: int,
             keywords: frozenset[str], peer: str, limit: int) -> list[Reflection]:
    """Drop a reflection that adds a feeling or value their words don't carry; say less rather than invent."""
    from agent.coach.implied import unlicensed

    kept = [r for r in refl if r.kind in ("acknowledge", "asking") or not unlicensed(_QUOTED.sub(" ", r.text), client)]
    if kept or not refl:
        return kept
    phrases = ranked_phrases(message, keywords, peer, limit)
    event = next((p for p in phrases if not feeling_word(p.text)), phrases[0] if phrases else None)
    if event is None:
        return [Reflection(text=bank.template("acknowledge", turn_index), kind="acknowledge")]
    about_them = not re.search(r"\byou", event.subject)
    return [_simple(bank, event.plain, turn_index // 3, about_them)]


def _simple(bank: QuestionBank, event: str, index: int, about_them: bool) -> Reflection:
    """A plain restatement; 'you have to tell them' is framed as theirs, or it reads as an instruction."""
    must = bool(_MUST.search(event))
    made = _make(bank, "simple_other" if about_them or must else "simple",
                 0 if must else index, event=event)  # index 0: "You're saying you have to ..."
    made.kind = "simple"
    return made


def _reflect(message: str, bank: QuestionBank, sit: Situation, *, turn_index: int,
             keywords: frozenset[str], peer: str, limit: int, spare: int) -> list[Reflection]:
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
        value = goal_of(message) or _pick(sit.values, turn_index)
        if NOUNS.get(named) and turn_index % 2 == 0 and value:
            return [_make(bank, "reframe", turn_index, noun=NOUNS[named], value=value)]
        return [_make(bank, "feeling_only", turn_index, feeling=named)]
    reading = _Reading(phrases=phrases, event=event or phrases[0], named=named, where=where,
                       goal=goal_of(message), options=options_of(message), sides=tension(message))
    main = _main(reading, bank, sit, turn_index, roomy=limit >= 12)
    extra = _extra(reading, main, bank, sit, turn_index, spare)
    if extra is None:
        return [main]
    return [main, extra] if extra.kind == "second" else [extra, main]


def _main(r: _Reading, bank: QuestionBank, sit: Situation, turn_index: int, roomy: bool = True) -> Reflection:
    """The turn's reflection: both sides of a pull, their feeling, their options or goal, else by rotation."""
    event = r.event
    said = event.quoted if re.search(r"\byou", event.subject) and turn_index % 2 == 0 else event.plain
    value, feeling = _pick(sit.values, turn_index), _pick(sit.feelings, turn_index)
    noun = NOUNS.get(r.named, "")
    if r.sides and r.sides[0].lower() != r.sides[1].lower():
        kind = "part_of_you" if r.sides[2] else "double"
        return _make(bank, kind, turn_index, side_a=r.sides[0], side_b=r.sides[1])
    if r.named and (turn_index % 3 != 1 or not noun):
        return _make(bank, "named_feeling", turn_index, event=said, feeling=r.named)
    if r.named and (r.goal or value):
        return _make(bank, "reframe", turn_index, noun=noun, value=r.goal or value)
    if len(r.options) == 2:
        return _make(bank, "options", turn_index, option_a=r.options[0], option_b=r.options[1])
    if r.goal and (GOAL.match(event.text) or (turn_index % 2 == 1 and not _PAIN.search(event.text.lower()))):
        return _make(bank, "want", 0 if r.goal.startswith("that ") else turn_index, goal=r.goal)
    kind = ("feeling", "meaning", "simple")[turn_index % 3]
    if kind == "simple" and value and roomy and re.search(r"\byou", event.subject):
        kind = "meaning"  # a value their own words license, linked to what they just said: complex, still theirs
    about_them = not re.search(r"\byou", event.subject)
    if kind == "feeling" and (r.options or not _PAIN.search(event.text.lower())):
        kind = "simple" if about_them else "meaning"  # "that must be draining" fits a difficulty, not a plan
    if about_them and kind == "meaning":
        # What matters to *them* does not follow from a fact about someone else; a hard fact may still sting.
        kind = "feeling" if _PAIN.search(event.text.lower()) else "simple"
    if kind == "feeling" and not feeling or kind == "meaning" and not value:  # nothing licensed to add: say less
        kind = "meaning" if kind == "feeling" and value and not about_them else "simple"
    if kind == "simple":
        plain = _simple(bank, event.plain, turn_index // 3, about_them)
        implied = [] if about_them or turn_index % 3 != 2 else says(event.text)  # its turn in the rotation
        if implied:  # their words, then what they plainly carry: complex without inventing
            carried = implied[turn_index % len(implied)]
            return Reflection(text=f"{plain.text.rstrip('.')}; {carried[0].lower()}{carried[1:]}", kind="meaning")
        return plain
    main = _make(bank, kind, turn_index // 3, event=said, feeling=feeling, value=value)
    main.kind = kind
    return main


def _extra(r: _Reading, main: Reflection, bank: QuestionBank, sit: Situation, turn_index: int,
           spare: int) -> Reflection | None:
    """A second reflection on another part of the message, when it fits in `spare` words."""
    if spare < 4 or main.kind in ("double", "part_of_you"):
        return None
    value, feeling = _pick(sit.values, turn_index), _pick(sit.feelings, turn_index)
    implied = [s for s in says(r.event.text if main.kind == "simple" else " ".join(p.text for p in r.phrases))
               if not repeats(s, main.text)]
    if main.kind in ("simple", "options", "named_feeling", "feeling", "want") and implied and \
            len(implied[0].split()) <= spare:
        return Reflection(text=implied[turn_index % len(implied)], kind="second")  # what their words plainly carry
    if main.kind in ("simple", "options") and (value or feeling):
        # second's templates: 0 names a value, 1 a feeling; use the one their words license
        index = turn_index if value and feeling else (0 if value else 1)
        second = _make(bank, "second", index, value=value, feeling=feeling)
        return second if len(second.text.split()) <= spare else None
    if r.goal and main.kind != "want":
        want = _make(bank, "want", turn_index + 1, goal=r.goal)
        if len(want.text.split()) <= spare and r.goal.split()[-1] not in main.text:
            want.kind = "second"
            return want
    other = next((p for p in r.phrases if p is not r.event and p.rest not in main.text and p.text not in r.where
                  and re.search(r"\byou", p.subject) and p.words + 1 <= spare), None)
    if other:  # not "You're saying ... You're saying ...": the second opens another way
        made = [_simple(bank, other.plain, turn_index + n, False) for n in (1, 2, 3)]
        return next((m for m in made if m.text.split()[0] != main.text.split()[0]), made[0])
    if main.kind in ("named_feeling", "feeling", "feeling_only") and value:
        second = _make(bank, "second", 0, value=value, feeling=feeling)  # the feeling, then what it protects
        return second if len(second.text.split()) <= spare else None
    return None


# How a person feels ("afraid"), not how a thing feels to them ("unsettling"): "that sounds afraid" is not English.
_EXPERIENCER = frozenset("""afraid angry sad anxious nervous guilty ashamed lost jealous upset furious unsure worried
scared tired stuck exhausted frustrated overwhelmed embarrassed annoyed hurt fed-up burnt-out""".split())


# Said as "I feel ...": "you sound like a fraud" or "that sounds small" says something else, so only "you feel" fits.
_FELT = frozenset({"like a fraud", "small", "flat", "lost", "invisible", "left out", "useless", "inadequate",
                   "insecure", "torn", "proud", "full of dread", "burnt out", "powerless", "helpless", "hopeless"})


def _lower_first(text: str) -> str:
    """'Tenants told ...' mid-sentence is 'tenants told ...'; names, 'I' and acronyms keep their capitals."""
    from agent.coach.nlp import sentence_case_only

    word = text.split(" ", 1)[0]
    if not word[:1].isupper() or word == "I" or word.isupper() or word.startswith("I'"):
        return text
    return word[:1].lower() + text[1:] if sentence_case_only(text) else text


def _make(bank: QuestionBank, kind: str, index: int, **values: str) -> Reflection:
    values = {k: _lower_first(v) if k in ("event", "side_a", "side_b", "goal") and v else v for k, v in values.items()}
    feeling = values.get("feeling", "")
    template = kind  # which template says it; `kind` is what the reflection counts as
    if feeling in _FELT and kind in ("feeling", "feeling_only", "second") and "{feeling}" in bank.template(kind, index):
        if kind == "feeling" and values.get("event"):
            kind = template = "named_feeling"  # "..., and you feel like a fraud."
        else:
            template, index = "feeling_only", 2  # "You feel like a fraud.", still a second reflection when it was one
    elif feeling in _EXPERIENCER or feeling.endswith("ed") and " " not in feeling:
        if kind == "second" and "{feeling}" in bank.template(kind, index):
            kind = template = "feeling_only"  # "You sound afraid."
            index = 1
        elif kind == "feeling" and values.get("event"):
            kind = template = "named_feeling"  # "..., and you feel afraid."
    text = render(bank.template(template, index), **values)
    return Reflection(text=sentence(text), kind=kind)


def sentence(text: str) -> str:
    """One tidy sentence: spaces collapsed, first letter (even inside a quote) upper case, final stop."""
    text = " ".join(text.split())
    text = re.sub(r"\s+([,;:.])", r"\1", text)
    i = 1 if text[:1] in "'\"‘“" else 0
    text = text[:i] + text[i:i + 1].upper() + text[i + 1:]
    return text if text.endswith((".", "?", "!")) else text + "."
