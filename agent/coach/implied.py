"""The small lexicon of implied meanings (data/implied.yaml): what a message licenses a reflection to say."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "implied.yaml"


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[tuple[re.Pattern[str], frozenset[str], str], ...], frozenset[str]]:
    from agent.core.yaml_data import parse_yaml

    data = parse_yaml(DATA.read_text(encoding="utf-8"))
    rules = tuple((re.compile(r["when"]), frozenset(r["licenses"]), r.get("says", "")) for r in data["implied"])
    return rules, frozenset(data["frame"])


def says(text: str) -> list[str]:
    """The implied meanings of a message as reflections ('I keep jumping in' -> 'Stepping back is hard for you.')."""
    low = text.lower().replace("’", "'")
    return [said for pattern, _, said in _load()[0] if said and pattern.search(low)]


def repeats(carried: str, said: str) -> bool:
    """Whether an implied meaning only repeats the reflection before it ("not sure ..." then "Part of you isn't
    sure yet."): none of its own words, the frame aside, is new."""
    from agent.coach.nlp import content_lemmas

    new = set(content_lemmas(carried)) - frame()
    return bool(new) and new <= set(content_lemmas(said)) | set(said.lower().split())


def frame() -> frozenset[str]:
    """Lemmas any reflection may use around the client's words."""
    return _load()[1]


def licensed(text: str) -> frozenset[str]:
    """Lemmas the text licenses though it does not say them ('I keep jumping in' -> hard, let, go)."""
    low = text.lower().replace("’", "'")
    out: set[str] = set()
    for pattern, words, _ in _load()[0]:
        if pattern.search(low):
            out |= words
    return frozenset(out)


_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Light verbs carry no value of their own ("having her on your side matters to you").
_LIGHT = frozenset({"have", "get", "make", "do", "be", "keep"})


@lru_cache(maxsize=256)
def _theirs(client_text: str) -> frozenset[str]:
    """The client's own lemmas and words, plus what the lexicon says their words imply."""
    from agent.coach.nlp import content_lemmas

    low = client_text.replace("’", "'")
    # Sentence by sentence, each parse cached: the session's text grows every turn, and parsing it whole made a
    # turn's cost grow with the session (52 ms a turn by turn 100).
    theirs = {w for part in _SENTENCE.split(low) if part for w in content_lemmas(part)}
    theirs |= {w.lower() for w in re.findall(r"[A-Za-z']+", low)}
    return frozenset(theirs | licensed(low))


@lru_cache(maxsize=256)
def allowed(client_text: str) -> frozenset[str]:
    """Every lemma a faithful reflection on `client_text` may contain: theirs, the licensed ones, the frame."""
    return _theirs(client_text) | frame()


@lru_cache(maxsize=256)
def own_part(client_text: str) -> str:
    """The client's clauses with a word for themselves in them: what they said about their own side."""
    from agent.coach.nlp import own_clauses

    return " ".join(c for part in _SENTENCE.split(client_text.replace("’", "'")) if part for c in own_clauses(part))


def unlicensed(text: str, client_text: str, *, frame_ok: bool = True, own: bool = False) -> list[str]:
    """Content lemmas of `text` that neither the client's words nor the implied-meaning lexicon license.

    frame_ok=False is for a value or feeling the coach attributes ("doing right by people matters to you"): the
    frame's "right" licenses "that's right", not a value the client never voiced. own=True is for a value: only
    what they said of themselves licenses it ("she's waiting for him to recognise her" makes being seen her
    value, not the speaker's)."""
    from agent.coach.nlp import content_lemmas, content_tokens

    if own:
        client_text = own_part(client_text)
    if frame_ok:
        ok = allowed(client_text)
        return [w for w in content_lemmas(text) if w not in ok]
    ok = _theirs(client_text) | _LIGHT
    # The word as they said it counts too: "scared" alone lemmatises to "scar", in their sentence to "scared".
    return [t.lemma_.lower() for t in content_tokens(text) if t.lemma_.lower() not in ok and t.lower_ not in ok]

