"""Strip personal details (names, e-mail addresses, phone numbers) from text before it leaves the coach."""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"
NAME_MARK = "[name]"

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# International and national formats: +44 20 7946 0958, (555) 123-4567, 0171.555.0199, +1-202-555-0173.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d{1,4}\)?(?:[\s.\-/]{0,2}\(?\d{1,5}\)?){1,6}(?![\w])")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$|^\d{4}$")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_SENTENCE_STARTERS = set(".!?:;\n\"“”‘'([-*>#•")

# Capitalised words that start sentences (or are always capitalised) and are not names.
_COMMON = """
a about above after again against all also always am an and another any anyone anything are as ask asked at
be because been before being below besides between both but by can cannot could did do does doing done don't
during each either even ever every everyone everything first for from further had has have having he her
here hers herself him himself his how however i i'd i'll i'm i've if in instead into is it it's its itself
just last later let let's like maybe me might mine more most much must my myself never next no nobody none
nor not nothing now of off often on once one only or other others our ours ourselves out over own perhaps
please rather really right said say she should since so some someone something sometimes still such than
thank thanks that that's the their theirs them themselves then there there's these they they're this those
though through thus to today tomorrow too under until up upon us very was we we're we've well were what
what's when where whether which while who whom whose why will with within without would yes yesterday yet
you you're your yours yourself okay ok hi hello dear sure great good honestly actually anyway overall monday
tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december english french german spanish goal reality options option themes theme
commitments commitment questions question sources source phase session sessions client coach brief notes
note words time people team manager boss everybody frankly sorry yeah probably usually afterwards lately
recently call reach talk tell send write meet think feel need want get make take give try start stop keep
find help work go come see look know set schedule book plan share check follow remember consider decide
agree listen invite offer prepare review raise explain admit accept
"""
COMMON_WORDS = frozenset(_COMMON.split())
# A sentence's first word reads as an abstract noun, not a name: "Communication broke down".
_NOT_A_NAME_SUFFIX = re.compile(r"(?:tion|sion|ness|ment|ship|ities)$")  # not -ing: Sterling, Manning
# ... or is followed by what follows a verb, not a person: "Owning my half", "Stepping back".
_VERB_OBJECT = re.compile(r"[ \t]+(?:the|a|an|my|our|your|their|his|her|its|this|that|these|those|back|up|out|"
                          r"down|off|it|them|him|me|us|some|more|less|through|over|ahead)\b")


def _is_phone(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if not 7 <= digits <= 15:
        return False
    return not _DATE.match(candidate.strip())


def redact_emails(text: str) -> str:
    """Replace every e-mail address with a marker."""
    return _EMAIL.sub(EMAIL_MARK, text)


def redact_phones(text: str) -> str:
    """Replace phone numbers (7 to 15 digits, with the usual separators) with a marker."""
    return _PHONE.sub(lambda m: PHONE_MARK if _is_phone(m.group(0)) else m.group(0), text)


def _name_parts(known_names: Iterable[str]) -> list[str]:
    parts: set[str] = set()
    for name in known_names:
        name = (name or "").strip()
        if not name:
            continue
        parts.add(name)
        parts.update(p for p in re.split(r"\s+", name) if len(p) > 2 and p.lower() not in COMMON_WORDS)
    return sorted(parts, key=len, reverse=True)  # longest first, so "Ana Lopez" wins over "Ana"


def redact_known_names(text: str, known_names: Iterable[str]) -> str:
    """Replace names the store knows (peers), whole words, any case."""
    parts = _name_parts(known_names)
    if not parts:
        return text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in parts) + r")(?!\w)", re.IGNORECASE)
    return pattern.sub(NAME_MARK, text)


def _looks_like_name(word: str, sentence_initial: bool) -> bool:
    if not word[0].isupper() or word.isupper():  # lower case words and acronyms (CEO, HR) are not names
        return False
    if word.lower() in COMMON_WORDS or word.lower().rstrip("'’s") in COMMON_WORDS:
        return False
    return not (sentence_initial and len(word) <= 2)


def _starts_sentence(text: str, index: int) -> bool:
    i = index - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_STARTERS


def redact_capitalised(text: str) -> str:
    """Replace capitalised words that are not common sentence-initial or calendar words."""
    lower_words = {w for w in _WORD.findall(text) if w.islower()}  # "Call" is common if "call" occurs too
    out: list[str] = []
    pos = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        before = text[pos : match.start()]
        sentence_initial = _starts_sentence(text, match.start())
        out.append(before)
        common_here = sentence_initial and (word.lower() in lower_words or _reads_as_word(word, text, match.end()))
        out.append(word if common_here or not _looks_like_name(word, sentence_initial) else NAME_MARK)
        pos = match.end()
    out.append(text[pos:])
    return _merge_marks("".join(out))


def _reads_as_word(word: str, text: str, end: int) -> bool:
    """A sentence-initial word that grammar marks as a verb or abstract noun rather than a person's name."""
    if len(word) >= 6 and _NOT_A_NAME_SUFFIX.search(word.lower()):
        return True
    return _VERB_OBJECT.match(text, end) is not None


def _merge_marks(text: str) -> str:
    """Collapse "[name] [name]" (first and last name) into one marker."""
    return re.sub(rf"{re.escape(NAME_MARK)}(?:[ \t]+{re.escape(NAME_MARK)})+", NAME_MARK, text)


def redact(text: str, known_names: Iterable[str] = ()) -> str:
    """Strip e-mail addresses, phone numbers, known names and other capitalised (name-like) words."""
    text = redact_emails(text)
    text = redact_phones(text)
    text = redact_known_names(text, known_names)
    return redact_capitalised(text)
