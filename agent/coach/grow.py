"""GROW state (goal -> reality -> options -> will -> closed), commitments, and requests for advice."""

from __future__ import annotations

import re

from agent.coach.questions import template_of
from agent.core.types import Commitment, Phase

ORDER: tuple[Phase, ...] = ("goal", "reality", "options", "will")
# How many questions a phase gets before the conversation moves on, unless the person moves it sooner.
PHASE_TURNS = {"goal": 2, "reality": 2, "options": 2, "will": 99}

_DAYS = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_NUM = r"(?:a|an|one|two|three|four|five|six|\d+)"
_WHEN = (
    rf"(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?:day|week|month|quarter|sprint|year)"
    rf"|(?:this|next|coming)\s+(?:{_DAYS}|week(?:end)?|month|quarter|sprint|morning|afternoon|evening)"
    rf"|{_DAYS}(?:\s+(?:morning|afternoon|evening|week))?"
    rf"|tomorrow(?:\s+(?:morning|afternoon|evening))?|today|tonight|eod|eow|cob"
    rf"|(?:(?:our|my|the|this|next)\s+)?{_DAYS}(?:'s)?\s+(?:briefing|meeting|stand-?up|review|huddle|call|"
    rf"session|one-to-one|1:1|check-in|sync|retro|planning)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"|(?:within|in)\s+(?:the\s+next\s+)?{_NUM}\s+(?:days?|weeks?|months?)"
    rf"|(?:our|my|the)\s+next\s+(?:1:1|one[- ]to[- ]one|one[- ]on[- ]one|1-on-1|team\s+meeting|meeting|"
    rf"catch[- ]up|check[- ]in|sync|review|offsite)"
)
DEADLINE = re.compile(rf"\b(?:(?:by|before|on|until|no\s+later\s+than|at|after|starting|from|beginning|as\s+of)\s+)?"
                      rf"(?:{_WHEN})\b(?!'s)(?:\s+itself\b)?", re.I)  # "on Thursday itself" goes whole
# "they know I'll redo them anyway", "everyone assumes I'll say yes": someone else's expectation, not a plan.
_REPORTED = r"(?<!know\s)(?<!knows\s)(?<!assume\s)(?<!assumes\s)(?<!expect\s)(?<!expects\s)(?<!think\s)(?<!thinks\s)" \
            r"(?<!says\s)(?<!said\s)(?<!worry\s)(?<!afraid\s)(?<!fear\s)(?<!if\s)(?<!that\s)(?<!because\s)"
COMMIT = re.compile(
    _REPORTED + r"\b(?:i'll|i\s+will|i'm\s+going\s+to|i\s+am\s+going\s+to|i'm\s+gonna|i\s+plan\s+to|"
    r"i'm\s+planning\s+to|i\s+commit\s+to|i\s+promise\s+to|i\s+intend\s+to|i've\s+decided\s+to|"
    r"i\s+have\s+decided\s+to|my\s+next\s+step\s+(?:is|will\s+be)\s+to|i\s+can\s+commit\s+to)\s+(?P<what>[^.!?;:\n]+)",
    re.I)
# "I'd ask Priya on Monday": a plan said conditionally; it counts only with a when (see extract_commitment).
WOULD = re.compile(r"\bi(?:'d|\s+would)\s+(?:probably\s+|first\s+|just\s+)?(?!like\b|love\b|prefer\b|rather\b|want\b|"
                   r"hate\b|say\b|guess\b|think\b|imagine\b|have\b|be\b|need\b|feel\b|never\b|not\b|hope\b|"
                   r"probably\b)(?P<what>[a-z][^.!?;:\n]+)", re.I)
# Where one plan ends and the next begins: ", and I'll ...", " and Jonas will ...".
_NEXT_CLAUSE = re.compile(r",?\s+(?:and|but|then|so)\s+(?=(?:i|i'll|i'm|we|he|she|they|[A-Z][a-z]+)\s+(?:will|'ll|"
                          r"am|'m|want|know|can|could|need|should)\b)|,\s+(?:and\s+)?(?=i'll\b|i\s+will\b|i'd\b)", re.I)
MEASURE = re.compile(
    r"\b(?:i'll\s+know|i\s+will\s+know|we'll\s+know|i'd\s+know|it(?:'s|\s+has)?\s+worked\s+if|"
    r"success\s+(?:looks\s+like|would\s+be|will\s+be|is|means)|the\s+sign\s+(?:will\s+be|is)|"
    r"i'll\s+measure\s+it\s+by|i'll\s+see\s+it\s+working\s+when)\b"
    r"(?:[^.!?;\n]{0,40}?\b(?:when|if|because|as\s+soon\s+as)\b)?\s*(?P<m>[^.!?;\n]+)", re.I)
MEASURE_BEFORE = re.compile(r"\b(?:if|when|once|as\s+soon\s+as)\s+(?P<m>[^.!?;\n,]{4,120}),?\s+(?:then\s+)?"
                            r"(?:i'll|i\s+will|we'll|we\s+will|i'd)\s+know\b", re.I)
_SELF_MEASURE = re.compile(r"^(?:that\s+)?(?:it|this|that)(?:'s|\s+is|\s+has)?\s+(?:working|worked|works|"
                           r"(?:been\s+)?a\s+success)$", re.I)
# "As head of department I will sit in meetings the whole day": what the role would bring, not a plan. A role frame
# at the start of the sentence, or a habit ("the whole day", "every week"), makes the "will" a prediction.
_ROLE = r"(?:head|manager|lead|leader|director|boss|supervisor|chief|principal|partner|owner|vp|cto|ceo|coo|cfo)"
_PREDICTION = re.compile(rf"^\s*(?:(?:but|and|so|then)\s+)?(?:as\s+(?:a\s+|an\s+|the\s+)?(?:new\s+)?(?!(?:my|her|his|their|your|our)\b)(?:[a-z]+\s+)?{_ROLE}\b"
                         r"|in\s+(?:that|the|this|a)\s+(?:new\s+)?(?:role|job|position|seat)\b"
                         r"|if\s+i\s+(?:take|took|accept|get|got|say\s+yes\s+to)\s+(?:it|the\s+(?:job|role|offer|post|"
                         r"promotion))\b)", re.I)
_HABIT = re.compile(r"\b(?:the\s+whole\s+(?:day|week|time)|all\s+day(?:\s+long)?|all\s+the\s+time|"
                    r"day\s+(?:in|after)\s+day)\b", re.I)
_NOT_COMMIT = re.compile(r"^(?:never|not|probably|maybe|know|try\s+to\s+think|have\s+to\s+think|"
                         r"think\s+about\s+it|see|be\s+(?:honest|fine|seen|blamed)|look|seem|sound|appear|"
                         r"come\s+across|end\s+up|feel|lose|get\s+(?:blamed|found)|fail)\b", re.I)
ADVICE = re.compile(
    r"\b(?:what\s+should\s+i\s+do|what\s+do\s+i\s+do|what\s+would\s+you\s+do|any\s+advice|your\s+advice|"
    r"give\s+me\s+(?:some\s+)?(?:advice|ideas|tips|suggestions)|can\s+you\s+suggest|could\s+you\s+suggest|"
    r"tell\s+me\s+what\s+to\s+do|what\s+do\s+you\s+(?:recommend|suggest|think\s+i\s+should)|"
    r"any\s+(?:tips|ideas|suggestions)|how\s+should\s+i|should\s+i\s+\w+|what's\s+the\s+best\s+way\s+to|"
    r"i\s+need\s+advice|just\s+tell\s+me|tell\s+me\s+(?:what\s+is\s+)?the\s+best\s+way|"
    r"give\s+me\s+(?:\w+\s+)?(?:options|ideas)|what\s+would\s+you\s+(?:say|open\s+with|suggest)|"
    r"would\s+that\s+(?:sound|work|land|come\s+across))\b", re.I)
YES = re.compile(r"^\s*(?:yes|yeah|yep|sure|please|ok(?:ay)?|go\s+ahead|go\s+on|that\s+would\s+help|"
                 r"i'd\s+like\s+that|share\s+it|why\s+not)\b", re.I)
_SIGNALS: dict[int, re.Pattern[str]] = {
    0: re.compile(r"\b(?:i\s+want|i'd\s+like|i\s+would\s+like|my\s+goal|i\s+hope|hoping\s+to|i\s+wish|"
                  r"would\s+love\s+to|aim\s+to|i\s+need\s+to\s+get\s+better)\b", re.I),
    1: re.compile(r"\b(?:right\s+now|currently|at\s+the\s+moment|so\s+far|has\s+been|have\s+been|usually|"
                  r"every\s+time|last\s+(?:week|month|time)|what\s+happens\s+is|these\s+days)\b", re.I),
    2: re.compile(r"\b(?:i\s+could|maybe\s+i|one\s+option|another\s+option|alternatively|what\s+if\s+i|"
                  r"i\s+might|perhaps\s+i|options?\s+(?:are|is)|either\s+i)\b", re.I),
    3: re.compile(r"\b(?:i'll|i\s+will|i'm\s+going\s+to|i\s+plan\s+to|my\s+next\s+step|i\s+commit|"
                  r"i've\s+decided|i\s+have\s+decided)\b", re.I),
}


def wants_advice(message: str) -> bool:
    """Whether the person asked for advice or a suggestion."""
    return bool(ADVICE.search(message.replace("’", "'")))


def gives_permission(message: str, last_coach_reply: str) -> bool:
    """A 'yes' right after the coach offered to share an idea."""
    low = last_coach_reply.lower()
    offered = "if you'd find that useful" in low or "if it would help" in low
    return offered and bool(YES.search(message))


def extract_commitment(message: str) -> Commitment | None:
    """What the person says they will do, by when, and how they will know; None when they state no plan."""
    text = message.replace("’", "'")
    plans = []
    found = [(m, False) for m in COMMIT.finditer(text)] + [(m, True) for m in WOULD.finditer(text)]
    for m, conditional in sorted(found, key=lambda mc: mc[0].start()):
        what = _NEXT_CLAUSE.split(m.group("what"), maxsplit=1)[0]
        deadline = DEADLINE.search(what)
        if _PREDICTION.match(_sentence_to(text, m.start())) and not deadline or _HABIT.search(what):
            continue
        if conditional and not deadline:
            continue  # "I'd ask for help" muses; "I'd ask Priya on Monday" plans
        if deadline and not _DAY_AS_OBJECT.search(what[:deadline.start()]):
            what = what[:deadline.start()] + " " + what[deadline.end():]
        what = _tidy(what)
        if len(what.split()) >= 2 and not _NOT_COMMIT.match(what):
            plans.append((what, " ".join(deadline.group(0).split()) if deadline else "", m.start()))
    if not plans:
        return None
    what, by_when, at = next((p for p in plans if p[1]), plans[0])
    if not by_when:
        sentence = _sentence_to(text, at) + text[at:]
        found = DEADLINE.search(sentence) or DEADLINE.search(text)
        by_when = " ".join(found.group(0).split()) if found else ""
    measure_m = MEASURE.search(text)
    measure = _tidy(measure_m.group("m")) if measure_m else ""
    before = MEASURE_BEFORE.search(text)
    if before and (not measure or _SELF_MEASURE.match(measure)):
        measure = _tidy(before.group("m"))  # "if he agrees to a catch-up, I'll know it's working": the if is the sign
    return Commitment(what=what, by_when=by_when, measure=measure)


# "fix Monday instead", "block Friday for it": the day is what they will fix or block, so it stays in the plan.
_DAY_AS_OBJECT = re.compile(r"\b(?:fix|book|block|set|schedule|pick|keep|clear|reserve|protect|move|use|free\s+up|"
                            r"take|give\s+(?:him|her|them))\s+$", re.I)


def _sentence_to(text: str, at: int) -> str:
    """The start of the sentence that position `at` is in, up to `at`."""
    return re.split(r"(?<=[.!?])\s+", text[:at])[-1]


def _tidy(text: str) -> str:
    """Spaces collapsed, dangling joins and punctuation removed from the ends."""
    text = re.sub(r"\s+([,.;:])", r"\1", " ".join(text.split())).strip(" ,;:-.")
    return re.sub(r"(?:\s+|,)(?:and|but|so|then|just)$", "", text).strip(" ,;:-.")


def measure_is_when(message: str) -> bool:
    """Whether the person said how they'll know as 'when/if ...' (else 'success looks like ...')."""
    m = MEASURE.search(message.replace("’", "'"))
    return bool(m) and not re.match(r"(?i)(?:success|the\s+sign)", m.group(0))


def signalled_phase(message: str, planned: bool | None = None) -> int:
    """The furthest GROW phase the message's own words point to, or -1; `planned`: whether the message states a
    commitment, when the caller has already extracted it."""
    text = message.replace("’", "'")
    found = [i for i, pattern in _SIGNALS.items() if pattern.search(text)]
    if planned is None:
        planned = 3 in found and extract_commitment(text) is not None
    if 3 in found and not planned:
        found.remove(3)  # "As head of department I will sit in meetings": a prediction points to no plan
    return max(found) if found else -1


def phase_run(asked: list[str], phase: Phase) -> int:
    """How many of the latest questions in a row came from this phase of the question bank."""
    run = 0
    for question in reversed(asked):
        where = template_of(question)
        if where is None:
            continue
        if where[1] != phase:
            break
        run += 1
    return run


def next_phase(prev: Phase, message: str, *, run: int, commitment: Commitment | None = None,
               advice: bool = False, turn_index: int = 0) -> Phase:
    """The phase for this turn: a full commitment closes the topic; otherwise content and count move it on."""
    if commitment and commitment.what and commitment.by_when:
        return "closed"
    if prev == "closed":
        return "will" if commitment else "goal"
    i = ORDER.index(prev)
    target = i
    signal = signalled_phase(message, planned=commitment is not None)
    if commitment:
        target = 3
    elif signal > i:
        target = min(signal, i + 2)
    elif run >= PHASE_TURNS[prev] or (prev == "goal" and max(run, turn_index) >= 1
                                      and (signal == 0 or len(message.split()) >= 12)):
        target = i + 1
    if advice and target < 2 and i >= 1:
        target = 2
    return ORDER[min(max(i, target), 3)]
