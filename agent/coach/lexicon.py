"""Small word lists and inflections the reflections need: feelings, their nouns, -ing and -s forms."""

from __future__ import annotations

import re

FEELINGS = {
    "frustrat": "frustrated", "annoy": "annoyed", "angry": "angry", "furious": "angry", "stuck": "stuck",
    "overwhelm": "overwhelmed", "exhaust": "exhausted", "tired": "tired", "burnt out": "burnt out",
    "burned out": "burnt out", "anxious": "anxious", "nervous": "nervous", "worried": "worried",
    "worry": "worried", "scared": "scared", "afraid": "afraid", "fear": "afraid", "dread": "full of dread",
    "lonely": "lonely", "isolat": "isolated", "hurt": "hurt", "sad": "sad", "disappoint": "disappointed",
    "excluded": "left out", "left out": "left out", "ignored": "ignored", "invisible": "invisible",
    "unappreciat": "unappreciated", "undervalu": "undervalued", "guilty": "guilty", "ashamed": "ashamed",
    "embarrass": "embarrassed", "confus": "confused", "torn": "torn", "excited": "excited", "proud": "proud",
    "relieved": "relieved", "inadequate": "inadequate", "useless": "useless", "resent": "resentful",
    "bored": "bored", "stressed": "stressed", "stress": "stressed", "insecure": "insecure", "uneasy": "uneasy",
    "powerless": "powerless", "helpless": "helpless", "hopeless": "hopeless", "awkward": "awkward",
    "a fraud": "like a fraud", "feel small": "small", "feeling small": "small", "feel flat": "flat",
    "feeling flat": "flat", "sidelined": "sidelined", "drained": "drained", "stung": "stung",
    "uncomfortable": "uncomfortable", "feel lost": "lost", "feeling lost": "lost",
}
NOUNS = {
    "frustrated": "frustration", "worried": "worry", "anxious": "anxiety", "angry": "anger", "guilty": "guilt",
    "disappointed": "disappointment", "resentful": "resentment", "stressed": "stress", "exhausted": "exhaustion",
    "scared": "fear", "afraid": "fear", "nervous": "nervousness", "full of dread": "dread",
    "lonely": "loneliness", "annoyed": "annoyance", "embarrassed": "embarrassment", "ashamed": "shame",
    "hurt": "hurt", "sad": "sadness", "insecure": "insecurity", "uneasy": "unease", "uncomfortable": "discomfort",
}
_FEELING_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(FEELINGS, key=len, reverse=True)) + ")")
# "I'd be proud", "without feeling small", "if she's upset": not how they feel now.
_NOT_NOW = re.compile(r"\b(?:would|'d|be|without|not|never|if|might|will|won't|avoid|stop)\s+(?:\w+\s+){0,2}$")
_MINE = re.compile(r"\b(?:i|i'm|i've|i'd|me|my|myself|it\s+feels|feeling|it's|that's)\b")
# The last person named before a feeling word says whose feeling it is ("he's frustrated" is not theirs).
_WHO = re.compile(r"\b(?:i|i'm|i've|i'd|i\s+was|me|my|myself|it|it's|that|this|feeling|he|he's|she|she's|they|"
                  r"they're|we|we're|him|her|them|everyone|nobody|people|a\s+patient|the\s+team)\b")
_SPEAKER = frozenset({"i", "i'm", "i've", "i'd", "i was", "me", "my", "myself", "it", "it's", "that", "this",
                      "feeling"})
_GERUND = {
    "be": "being", "have": "having", "see": "seeing", "lie": "lying", "die": "dying", "get": "getting",
    "put": "putting", "run": "running", "sit": "sitting", "stop": "stopping", "set": "setting",
    "plan": "planning", "let": "letting", "cut": "cutting", "begin": "beginning", "win": "winning",
    "hit": "hitting", "drop": "dropping", "step": "stepping", "grab": "grabbing", "shop": "shopping",
    "swap": "swapping", "knit": "knitting", "chat": "chatting", "forget": "forgetting",
}
_THIRD = {"have": "has", "do": "does", "go": "goes", "can": "can", "could": "could", "would": "would",
          "should": "should", "will": "will", "might": "might", "must": "must", "am": "is", "'m": "is"}
INNER_VERBS = frozenset("want wants need love miss feel think know worry wish hope like enjoy fear suspect "
                        "believe care wonder dread".split())


def feeling_word(text: str) -> str:
    """The first feeling word in a text, normalised ('frustrating' -> 'frustrated'), or ''."""
    m = _FEELING_RE.search(text.lower())
    return FEELINGS[m.group(1)] if m else ""


def own_feeling(clauses: list[str]) -> tuple[str, str]:
    """(feeling, clause) for a feeling the person says they have now; ('', '') when they name none."""
    for clause in clauses:
        low = clause.lower().replace("’", "'")
        if not _MINE.search(low):
            continue
        for m in _FEELING_RE.finditer(low):
            whose = [w.group(0) for w in _WHO.finditer(low[:m.start()])]
            if not _NOT_NOW.search(low[:m.start()]) and (not whose or whose[-1] in _SPEAKER) and \
                    _theirs(clause, m.start()):
                return FEELINGS[m.group(1)], clause
    return "", ""


def _theirs(clause: str, start: int) -> bool:
    from agent.coach.nlp import felt_by_speaker

    return felt_by_speaker(clause.replace("’", "'"), start)


def gerund(verb: str) -> str:
    """'be' -> 'being', 'make' -> 'making', 'stop' -> 'stopping'."""
    low = verb.lower()
    if low in _GERUND:
        return _GERUND[low]
    if low.endswith("ing") and len(low) > 5:
        return low
    if low.endswith("ie"):
        return low[:-2] + "ying"
    if low.endswith("e") and not low.endswith(("ee", "ye", "oe")) and len(low) > 2:
        return low[:-1] + "ing"
    return low + "ing"


def third_person(verb: str) -> str:
    """'want' -> 'wants', 'worry' -> 'worries', 'miss' -> 'misses' (for 'part of you wants ...')."""
    low = verb.lower()
    if low in _THIRD:
        return _THIRD[low]
    if low.endswith("y") and low[-2:-1] not in "aeiou":
        return low[:-1] + "ies"
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return low + "es"
    return low + "s"


# Verbs that take their preposition with them: "never thought | about X" is no place to stop.
BOUND = {
    "about": {"think", "thought", "thinking", "talk", "talked", "talking", "care", "cared", "worry", "worried",
              "know", "knew", "ask", "asked", "complain", "complained", "complaining"},
    "on": {"depend", "depends", "rely", "relies", "focus", "focused", "focusing", "agree", "count", "work", "worked"},
    "with": {"work", "worked", "working", "deal", "dealt", "agree", "disagree", "talk", "speak", "spoke", "cope"},
    "for": {"wait", "waiting", "waited", "ask", "asked", "look", "looking", "care", "apply", "applied", "pay"},
    "at": {"look", "looked", "looking", "good", "bad", "better"},
    "in": {"believe", "involved", "interested", "invest"},
    "of": {"one", "some", "all", "most", "each", "none", "any", "many", "few", "both", "either", "neither", "part",
           "lot", "half", "rest", "top", "end", "kind", "sort", "two", "three"},
}
# Capitalised at the start of a sentence, but not names.
COMMON_CAPS = frozenset("""
maybe perhaps everyone everybody nobody people nothing something someone somebody sometimes often most many
some one two three four five another each every both either neither none half management leadership staff
work things everything last next first second previous head team teams our since after before until unless
yesterday today tomorrow recently lately now then there here thanks hello hi yes no okay ok sure well
""".split())
