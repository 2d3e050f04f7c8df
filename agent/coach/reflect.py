"""Reflections: their words given back, plainly or with a feeling, a meaning or both sides of a tension."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel

from agent.coach.questions import QuestionBank, render

FEELINGS = {
    "frustrat": "frustrated", "annoy": "annoyed", "angry": "angry", "furious": "angry", "stuck": "stuck",
    "overwhelm": "overwhelmed", "exhaust": "exhausted", "tired": "tired", "burn": "burnt out",
    "anxious": "anxious", "nervous": "nervous", "worried": "worried", "worry": "worried", "scared": "scared",
    "afraid": "afraid", "dread": "full of dread", "lonely": "lonely", "alone": "alone", "isolat": "isolated",
    "hurt": "hurt", "sad": "sad", "disappoint": "disappointed", "excluded": "left out",
    "left out": "left out", "ignored": "ignored", "invisible": "invisible", "unappreciat": "unappreciated",
    "undervalu": "undervalued", "guilty": "guilty", "ashamed": "ashamed", "embarrass": "embarrassed",
    "confus": "confused", "lost": "lost", "torn": "torn", "excited": "excited", "proud": "proud",
    "relieved": "relieved", "inadequate": "inadequate", "useless": "useless", "resent": "resentful",
    "bored": "bored", "stressed": "stressed", "stress": "stressed", "insecure": "insecure",
    "uneasy": "uneasy", "powerless": "powerless", "helpless": "helpless", "hopeless": "hopeless",
    "awkward": "awkward",
}
TENSION = re.compile(
    r"\s*(?:,|;)?\s*\b(?:but|yet|although|though|even though|and yet|at the same time|on the other hand|"
    r"whereas|while at the same time)\b\s*", re.I)
_SWAPS = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "i'm": "you're",
    "im": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we": "you",
    "our": "your", "ours": "yours", "ourselves": "yourselves", "we're": "you're", "we've": "you've",
}
_VERB_FIXES = ((re.compile(r"\bI am\b", re.I), "you are"), (re.compile(r"\bI was\b", re.I), "you were"),
               (re.compile(r"\bwe are\b", re.I), "you are"), (re.compile(r"\bwe were\b", re.I), "you were"))
_NOT_NAMES = {
    "when", "if", "since", "after", "before", "because", "then", "now", "today", "yesterday", "recently",
    "last", "this", "that", "there", "here", "what", "how", "why", "who", "which", "where", "sometimes",
    "every", "each", "all", "some", "most", "many", "one", "it's", "its", "in", "on", "at", "for", "with",
    "as", "to", "of", "lately", "still", "even", "only", "maybe", "perhaps", "nothing", "everything",
    "something", "ever", "the", "a", "an", "and", "but", "so", "we", "they", "he", "she", "you", "it",
    "everyone", "nobody", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "please", "thanks", "yes", "no",
}
_FILLER = re.compile(r"^(?:and|but|or|so|also|well|honestly|basically|actually|really|just|like|i think|"
                     r"i guess|you know|the thing is|to be honest|tbh|um|uh|hi|hello|hey|"
                     r"right now|"
                     r"now|then|"
                     r"lately|these days|at the moment)\b[\s,]*", re.I)
_PRONOUNS = {"he", "she", "they", "it", "everyone", "nobody", "no one"}
_VERBISH = (r"(?=\s+(?:keeps|is|isn't|has|hasn't|was|wasn't|won't|doesn't|didn't|never|always|said|says|told|"
            r"thinks|"
            r"seems|just|will|would|can|can't|could|did|does|wants|\w+ed|\w+s)\b)")
_SUBJECT = re.compile(
    r"^((?i:my|the|our|his|her|their)\s+(?:\w+\s+){0,2}?"
    r"(?i:team|boss|manager|peer|peers|colleague|colleagues|"
    r"people|reports|staff|director|ceo|cto|cfo|vp|head of \w+|company|organisation|organization|department|"
    r"group|friends|counterpart|lead|leads)(?:\s+(?:in|from|on|at|of)\s+\w+)?(?:,[^,]{2,40},)?"
    r"|[A-Z][a-z]+(?:,[^,]{2,40},)?" + _VERBISH + r"|(?i:he|she|they|it|everyone|nobody|no one))\s+(?=\w)")
_HAS_SUBJECT = re.compile(
    r"\b(?:(?i:i|i'm|i've|i'd|we|they|he|she|it|you|my|our|their|there|that|this)|[A-Z][a-z]+)\b")
_PAIN = re.compile(r"\b(?:stopped|no\s+longer|anymore|keeps?|won't|can't|cannot|don't|doesn't|never|nobody|"
                   r"no\s+one|lost|missing|miss|alone|ignor\w*|avoid\w*|rolled|sigh\w*|laugh\w*|dismiss\w*|"
                   r"cut|block\w*)\b")
_NOT_REFLECTABLE = re.compile(
    r"\?\s*$|\b(?:what\s+should\s+i|what\s+do\s+i\s+do|any\s+advice|can\s+you\s+suggest|tell\s+me\s+what|"
    r"what\s+would\s+you)\b", re.I)
_UNSURE = re.compile(r"\b(?:i\s+don'?t\s+know|no\s+idea|not\s+sure)\b", re.I)
_JOINS = re.compile(r",?\s+(?:and now|and then|and so|and|because|so that|so|since|which|as)\s+", re.I)


class Reflection(BaseModel):
    """A reflection sentence and which kind it was."""

    text: str
    kind: str  # simple | feeling | named_feeling | meaning | double | acknowledge


def shift_pronouns(text: str) -> str:
    """Turn the speaker's first person into the coach's second person ("my team" -> "your team")."""
    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        return _SWAPS.get(word.lower().replace("’", "'"), word)

    for pattern, repl in _VERB_FIXES:
        text = pattern.sub(repl, text)
    # "us" stays: "you want us to" reads better than "you want you to".
    return re.sub(r"[A-Za-z’']+", swap, text)


def quoted_phrases(message: str) -> list[str]:
    """Phrases the person put in quotes themselves."""
    found = re.findall(r"(?:^|\s)[\"“]([^\"”]{3,80})[\"”]", message)
    found += re.findall(r"(?:^|\s)['‘]([^'’]{3,80})['’](?=[\s.,!?;:]|$)", message)
    return [f.strip() for f in found if len(f.split()) >= 1]


def clauses(message: str) -> list[str]:
    """The message split into sentences and clauses, fillers trimmed."""
    parts = re.split(r"(?<=[.!?])\s+|\s*[;:\n]\s*|\s+-\s+|\s+—\s+", message.strip())
    out = []
    for part in parts:
        part = part.strip(" .!,\"'“”‘’")
        while True:
            trimmed = _FILLER.sub("", part).strip(" ,")
            if trimmed == part:
                break
            part = trimmed
        if len(part.split()) >= 2:
            out.append(part)
    return out


_FEELING_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in FEELINGS) + ")")


def feeling_in(text: str) -> str:
    """A feeling word the person used, normalised, or ''."""
    found = {m.group(1) for m in _FEELING_RE.finditer(text.lower())}
    return next((name for stem, name in FEELINGS.items() if stem in found), "")


def _subclauses(clause: str) -> list[str]:
    parts = [p.strip(" ,") for p in _JOINS.split(clause)]
    if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts):
        return [_FILLER.sub("", p).strip(" ,") for p in parts]
    return []


@lru_cache(maxsize=64)
def _keyword_res(keywords: frozenset[str]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regex for the multi-word phrases and one for the word stems."""
    phrases = sorted((k for k in keywords if " " in k), key=len, reverse=True)
    stems = sorted((k for k in keywords if " " not in k), key=len, reverse=True)
    return (re.compile("|".join(map(re.escape, phrases))) if phrases else None,
            re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + ")") if stems else None)


def _clause_score(clause: str, keywords: set[str]) -> float:
    low = clause.lower()
    words = re.findall(r"[a-z']+", low)
    score = 1.0 if feeling_in(clause) else 0.0
    phrases, stems = _keyword_res(frozenset(keywords))
    score += 2.5 if phrases is not None and phrases.search(low) else 0.0
    score += 1.5 if stems is not None and stems.search(low) else 0.0
    score += 2.0 if _PAIN.search(low) else 0.0
    score += 1.0 if re.search(r"\b(i|my|me|myself|i'm|i've)\b", low) else 0.0
    n = len(words)
    score += 0.15 * min(n, 9)
    score -= 0.3 * (n - 9) if n > 9 else (0.5 if n < 3 else 0.0)
    return score - (2.0 if clause.rstrip().endswith("?") else 0.0)


def key_phrases(message: str, keywords: set[str] = frozenset(), k: int = 2) -> list[str]:
    """The words most worth giving back: their own quotes first, then the weightiest clauses."""
    found = quoted_phrases(message)
    whole = [c for c in clauses(message) if not _NOT_REFLECTABLE.search(c)]
    options = whole + [sub for c in whole for sub in _subclauses(c)]
    for clause in sorted(options, key=lambda c: -_clause_score(c, keywords)):
        if _NOT_REFLECTABLE.search(clause) or (_UNSURE.search(clause) and len(clause.split()) <= 5):
            continue
        phrase = _shorten(clause)
        if all(phrase.lower() not in f.lower() and f.lower() not in phrase.lower() for f in found):
            found.append(phrase)
    return found[:k]


_DANGLING = {"and", "but", "or", "the", "a", "to", "of", "that", "with", "for", "in", "on", "at", "so", "my",
             "your", "their", "is", "was"}


def _shorten(clause: str, limit: int = 14) -> str:
    """A clause cut to about `limit` words, at a comma when there is one, never ending on a small word."""
    words = clause.split()
    if len(words) <= limit:
        return clause
    head = " ".join(words[:limit])
    if "," in head and len(head[:head.rindex(",")].split()) >= 4:
        return head[:head.rindex(",")]
    words = words[:limit]
    while words and words[-1].lower() in _DANGLING:
        words.pop()
    return " ".join(words)


def key_phrase(message: str, keywords: set[str] = frozenset()) -> str:
    """The single phrase most worth giving back, or ''."""
    phrases = key_phrases(message, keywords, 1)
    return phrases[0] if phrases else ""


def split_subject(phrase: str) -> tuple[str, str]:
    """('your team ', 'stopped coming to you') from 'my team stopped coming to me'; subject may be ''."""
    m = _SUBJECT.match(phrase)
    if m and m.group(1).lower() in _NOT_NAMES - _PRONOUNS:
        m = None
    if m and len(phrase.split()) > len(m.group(1).split()) + 1:
        subject = shift_pronouns(m.group(1))
        named = re.match(r"[A-Z][a-z]+\b", subject) and subject.split()[0].lower() not in _NOT_NAMES
        subject = subject if named else subject[:1].lower() + subject[1:]
        rest = phrase[m.end():]
        return subject + " ", shift_pronouns(rest)
    low = phrase.lower().replace("’", "'")
    starts = (("i'm ", "you're "), ("i am ", "you're "), ("i was ", "you were "), ("i've ", "you've "),
              ("i ", "you "))
    for first, subject in starts:
        if low.startswith(first):
            return subject, shift_pronouns(phrase[len(first):])
    return "", shift_pronouns(phrase)


def their_question(message: str) -> str:
    """The person's own question in the coach's voice ('who could sponsor you'), or '' for none or advice."""
    for clause in clauses(message):
        if not clause.endswith("?"):
            continue
        first = (_subclauses(clause[:-1]) or [clause[:-1]])[0]
        if re.search(r"\b(?:should\s+i|what\s+do\s+i\s+do|advice|suggest|tell\s+me)\b", first, re.I):
            continue
        asked = _lower_first(shift_pronouns(_shorten(first.strip(" ,"), 16)))
        indirect = r"^(how|what|where|when|why|who|which)\s+(?:do|can|could|should)\s+you\s+"
        return re.sub(indirect, r"\1 to ", asked)
    return ""


def their_words(phrase: str) -> tuple[str, str]:
    """(quoted words, subject) in the coach's voice: ("'stopped coming to you'", "your team ")."""
    subject, rest = split_subject(phrase)
    return quote(_lower_first(rest) if not subject else rest), subject


def quote(words: str) -> str:
    """Their words in single quotes, trailing punctuation removed."""
    return f"'{words.strip(' .,!?;:')}'"


def tension_sides(message: str) -> tuple[str, str] | None:
    """Both sides of a tension ('I want X but Y'), pronoun-shifted, when the person voiced one."""
    for clause in clauses(message) or [message]:
        parts = TENSION.split(clause, maxsplit=1)
        if len(parts) == 2 and all(len(p.split()) >= 2 and _HAS_SUBJECT.search(p) for p in parts):
            a, b = (shift_pronouns(p.strip(" ,.")) for p in parts)
            return _lower_first(a), _lower_first(b)
    return None


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first.lower() not in _NOT_NAMES and first[:1].isupper() else text[:1].lower() + text[1:]


def reflect(message: str, bank: QuestionBank, *, feeling: str, meaning: str, turn_index: int,
            keywords: set[str] = frozenset(), phrase: str | None = None) -> Reflection:
    """One reflection: double-sided for a tension, else a named feeling, or simple/feeling/meaning by turn."""
    phrase = key_phrase(message, keywords) if phrase is None else phrase
    asked = their_question(message)
    if not phrase and asked and len(message.split()) >= 4:
        text = render(bank.template("asking", turn_index), question=asked)
        return Reflection(text=_sentence(text), kind="simple")
    if len(message.split()) < 4 or not phrase:
        return Reflection(text=bank.template("acknowledge", turn_index), kind="acknowledge")
    sides = tension_sides(message)
    if sides and sides[0] != sides[1]:
        text = render(bank.template("double", turn_index), side_a=sides[0], side_b=sides[1])
        return Reflection(text=_sentence(text), kind="double")
    named = feeling_in(message)
    if named and feeling_in(phrase) == named:
        # Name the feeling ourselves and give back the event around it.
        phrase = next((p for p in _subclauses(phrase) if not feeling_in(p)), phrase)
    words, subject = their_words(phrase)
    if named and named != feeling_in(phrase):
        kind = "named_feeling"
        text = render(bank.template(kind, turn_index), subject=subject, their_words=words, feeling=named)
    elif named or turn_index % 3 == 2:
        kind = "meaning"
        tpl = bank.template(kind, turn_index // 3)
        text = render(tpl, subject=subject, their_words=words, meaning=meaning)
    elif turn_index % 3 == 1:
        kind = "simple"
        text = render(bank.template(kind, turn_index // 3), subject=subject, their_words=words)
    else:
        kind = "feeling"
        tpl = bank.template(kind, turn_index // 3)
        text = render(tpl, subject=subject, their_words=words, feeling=feeling)
    return Reflection(text=_sentence(text), kind=kind)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "?", "!")) else text + "."
