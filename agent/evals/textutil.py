"""Sentence and word helpers the graders share; plain regexes, so every score is explainable."""

from __future__ import annotations

import re

from agent.coach.grounding import stem  # one stemmer: the coach's grounding and the graders agree on words

# Double quotes, curly quotes, and 'single quotes' whose inner apostrophes are followed by a letter (you're).
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|‘[^’]*’|(?<![A-Za-z])'(?:[^'\n]|'(?=[A-Za-z]))+'(?![A-Za-z])")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

STOPWORDS = frozenset("""
a an the and or but if so of to in on at for with about as by from into over under up down out off than then
that this these those there here it its it's is are was were be been being am do does did doing have has had
having i me my mine myself you your yours yourself we us our ours they them their theirs he him his she her hers
what which who whom whose when where why how not no nor just very really too also can could will would should
shall may might must let's let all any some each every more most much many such own same other only again once
get got going go like well even still yet now one two s t don't i'm i've i'd i'll you're you've you'd it'd
that's what's there's can't won't isn't aren't wasn't weren't doesn't didn't haven't hasn't hadn't
""".split())


QUOTED = "QUOTED"  # stands in for a quoted span, so "You said 'I'm stuck'." stays a three-word sentence


def strip_quotes(text: str) -> str:
    """Quoted passages replaced by a placeholder: quoted words are the person's (or an opener's), not the coach's."""
    def one(m: re.Match[str]) -> str:
        # A quote that ends its own sentence keeps the boundary, so the coach's next sentence stays separate.
        return f" {QUOTED}. " if re.search(r"[.!?…][\"”’']?$", m.group(0)) else f" {QUOTED} "

    return re.sub(r"[ \t]{2,}", " ", _QUOTED.sub(one, text))


def sentences(text: str) -> list[str]:
    """Sentences, split after . ! ? and at line breaks; empty pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s and s.strip()]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (stopwords and very short words dropped), crudely stemmed."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 2}


def questions(text: str, keep_quotes: bool = False) -> list[str]:
    """The coach's own questions in a reply: sentences ending in '?', outside quotation marks; with keep_quotes,
    each with the client's quoted words put back ("When you say 'X', ..." is about X)."""
    asked = [s for s in sentences(strip_quotes(text)) if s.rstrip("\"”’) ").endswith("?")]
    if not keep_quotes:
        return asked
    quotes = iter(m.group(0) for m in _QUOTED.finditer(text))
    restored = []
    for s in sentences(strip_quotes(text)):
        # quotes come back in order, sentence by sentence, so each question gets its own
        back = re.sub(QUOTED, lambda _m: next(quotes, QUOTED), s)
        if s in asked:
            restored.append(back)
    return restored


def statements(text: str) -> list[str]:
    """The coach's own non-question sentences, outside quotation marks."""
    return [s for s in sentences(strip_quotes(text)) if not s.rstrip("\"”’) ").endswith("?")]


def normalize(text: str) -> str:
    return " ".join(words(text))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)
