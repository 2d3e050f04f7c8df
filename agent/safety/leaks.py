"""Keeping hidden text hidden: retrieved text is defanged into data, and replies are checked for leaks."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from typing import NamedTuple

from agent.safety.rules import load_rules
from agent.safety.text import BASE64_RUN, decode_base64, encoded_payloads, fold

MARK = "[instruction removed from source text]"
_PIECES = re.compile(r"(\n+|(?<=[.!?])[ \t]+)")  # sentences and line breaks, separators kept
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")  # "ASCII smuggling": text in invisible tag characters
_WORDS = re.compile(r"[a-z0-9]+")
_ALNUM = re.compile(r"[^a-z0-9]")
_VAR = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")  # a template variable
_PROMPT_BRACKET = re.compile(r"<\s*/?\s*([^<>\n]{1,200}?)\s*>")
_BRACKET = re.compile(r"<\s*/?\s*([^<>\n]{0,200}?)\s*(?:>|$)")  # in a reply: also one cut off by the token limit
_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:')
ECHO_WORDS = 3  # a bracketed run of the prompt this long, or this much of a placeholder, is its format text
WHOLE_WORDS = 5  # a sentence that is nothing but a run of the prompt this long repeats its instructions


def instruction_hit(text: str) -> str | None:
    """The instruction-like words in `text` (aimed at the coach rather than the reader), or None."""
    rules = load_rules()
    norm, folded = rules.normalise(text), fold(text)
    injection = next(c for c in rules.categories if c.name == "injection")
    for group in (*injection.groups, rules.document):
        span = rules.group_hit(group, norm, folded)
        if span is not None:
            return span
    return None


def _defang_piece(piece: str) -> str:
    piece = BASE64_RUN.sub(
        lambda m: MARK if (decoded := decode_base64(m.group(0))) and instruction_hit(decoded) else m.group(0), piece)
    if MARK not in piece and instruction_hit(piece) is not None:
        return piece[: len(piece) - len(piece.lstrip())] + MARK
    return piece


def neutralize(text: str) -> str:
    """Retrieved text as data: instruction-like sentences become a marker; ordinary prose is returned unchanged."""
    if not text:
        return text

    def hidden(m: re.Match[str]) -> str:
        decoded = "".join(chr(ord(ch) - 0xE0000) for ch in m.group(0))
        return f" {MARK} " if decoded.strip() else ""

    text = _TAG_RUN.sub(hidden, text)
    # Whole-text check first: any sentence-level hit also hits the whole text, and most passages are clean.
    if instruction_hit(text) is None and not any(instruction_hit(p) for p in encoded_payloads(text)):
        return text
    text = _COMMENT.sub(lambda m: MARK if instruction_hit(m.group(0)) else m.group(0), text)
    parts = _PIECES.split(text)
    for i in range(0, len(parts), 2):
        if parts[i].strip() and parts[i].strip() != MARK:
            parts[i] = _defang_piece(parts[i])
    return "".join(parts)


def make_canary() -> str:
    """A random token to plant in the system prompt; seeing it in a reply proves the prompt leaked."""
    return f"CANARY-{secrets.token_hex(8)}"


class _Prompt(NamedTuple):
    """The hidden prompt as the leak checks read it."""

    segments: tuple[tuple[str, ...], ...]  # its words, cut at each {variable}: a run never spans a variable
    text: str  # " w w w | w w " for run look-ups
    holders: tuple[str, ...]  # " w w " of each <placeholder> in it
    keys: frozenset[str]  # the JSON keys of its output format


@lru_cache(maxsize=16)
def _prompt(system_prompt: str) -> _Prompt:
    parts = tuple(tuple(_WORDS.findall(fold(p))) for p in _VAR.split(system_prompt))
    holders = {_run(w) for m in _PROMPT_BRACKET.finditer(system_prompt) if (w := _WORDS.findall(fold(m.group(1))))}
    return _Prompt(parts, " " + " | ".join(" ".join(p) for p in parts) + " ", tuple(sorted(holders)),
                   frozenset(k.casefold() for k in _KEY.findall(system_prompt)))


@lru_cache(maxsize=16)
def _shingles(system_prompt: str, n: int) -> frozenset[tuple[str, ...]]:
    return frozenset(p[i:i + n] for p in _prompt(system_prompt).segments for i in range(len(p) - n + 1))


def _run(words: list[str] | tuple[str, ...]) -> str:
    return " " + " ".join(words) + " "


def _canary_keys(canary: str) -> tuple[str, ...]:
    compact = _ALNUM.sub("", canary.casefold())
    hex_part = compact.removeprefix("canary")
    return tuple(k for k in (compact, hex_part if len(hex_part) >= 8 else "") if k)


def _echo(unit: str, prompt: _Prompt, whole_runs: bool = True) -> bool:
    """Whether a sentence repeats the prompt's format text (a <placeholder>, a JSON key) or, with whole_runs, is
    nothing but a run of its instructions."""
    for m in _BRACKET.finditer(unit):
        words = _WORDS.findall(fold(m.group(1)))
        run = _run(words)
        if words and any(run in h and (len(words) > 1 or h.startswith(run)) for h in prompt.holders):
            return True
        if len(words) >= ECHO_WORDS and run in prompt.text:
            return True
    if any(k.casefold() in prompt.keys for k in _KEY.findall(unit)):
        return True
    words = _WORDS.findall(fold(unit))
    run = _run(words)
    if len(words) >= 2 and any(run == h or (len(words) >= ECHO_WORDS and run in h) for h in prompt.holders):
        return True
    return whole_runs and len(words) >= WHOLE_WORDS and run in prompt.text


class _Unit(NamedTuple):
    line: int
    start: int
    end: int


def _units(text: str) -> list[_Unit]:
    """The sentences of text (a line break ends one too), as character spans."""
    units: list[_Unit] = []
    pos = 0
    for n, line in enumerate(text.split("\n")):
        start = 0
        for m in _SENTENCES.finditer(line):
            if line[start:m.start()].strip():
                units.append(_Unit(n, pos + start, pos + m.start()))
            start = m.end()
        if line[start:].strip():
            units.append(_Unit(n, pos + start, pos + len(line)))
        pos += len(line) + 1
    return units


def _verdicts(text: str, units: list[_Unit], *, canary: str, system_prompt: str, min_words: int,
              leaks: bool = True, final: bool = True) -> tuple[set[int], int]:
    """(units to drop, index of the first unit not decided yet: len(units) when final)."""
    dropped: set[int] = set()
    pending = len(units)
    if not final and units and units[-1].end == len(text):
        pending = len(units) - 1  # the sentence is still being written
    prompt = _prompt(system_prompt) if system_prompt else None
    keys = _canary_keys(canary) if canary and leaks else ()
    rules = load_rules() if leaks else None
    lines = text.split("\n")
    leaked_lines = {n for n, line in enumerate(lines) if any(k in _ALNUM.sub("", line.casefold()) for k in keys)}
    for idx, u in enumerate(units):
        unit = text[u.start:u.end]
        disclosed = rules is not None and rules.disclosure and rules.disclosure.search(rules.normalise(unit))
        echoed = prompt is not None and idx < pending and _echo(unit, prompt, whole_runs=leaks)
        if u.line in leaked_lines or disclosed or echoed:
            dropped.add(idx)
    if prompt is not None and leaks:
        shingles = _shingles(system_prompt, min_words)
        owners: list[int] = []
        words: list[str] = []
        for idx, u in enumerate(units):
            w = _WORDS.findall(fold(text[u.start:u.end]))
            words += w
            owners += [idx] * len(w)
        for i in range(len(words) - min_words + 1):
            if tuple(words[i:i + min_words]) in shingles:
                dropped.update(owners[i:i + min_words])
        if not final:  # words that may yet become a run of the prompt hold their sentences back
            k = next((k for k in range(min(min_words - 1, len(words)), 0, -1) if _run(words[-k:]) in prompt.text), 0)
            if k:
                pending = min(pending, owners[-k])
    return dropped, pending


def _kept(text: str, units: list[_Unit], dropped: set[int], upto: int) -> str:
    """The units before `upto` that are not dropped, each after the whitespace that preceded it."""
    out: list[str] = []
    for idx in range(upto):
        if idx in dropped:
            continue
        u = units[idx]
        if out:
            out.append(text[units[idx - 1].end:u.start])
        out.append(text[u.start:u.end])
    return "".join(out)


def _clean(text: str) -> str:
    clean = re.sub(r"\n{3,}", "\n\n", text).strip()
    return clean if _WORDS.search(clean.casefold()) else ""


def check_output(reply: str, *, canary: str, system_prompt: str = "", min_words: int = 8) -> tuple[str, bool]:
    """(reply minus canary lines, prompt runs, format echoes and self-disclosures, whether any went); "" if no words
    are left."""
    units = _units(reply)
    dropped, _ = _verdicts(reply, units, canary=canary, system_prompt=system_prompt, min_words=min_words)
    if not dropped:
        return reply, False
    return _clean(_kept(reply, units, dropped, len(units))), True


def strip_echoes(text: str, system_prompt: str) -> tuple[str, bool]:
    """(text minus sentences that repeat the prompt's output format, whether any went): a template the model did not
    fill in, which is no answer rather than a leak (check_output also catches instruction text)."""
    units = _units(text)
    dropped, _ = _verdicts(text, units, canary="", system_prompt=system_prompt, min_words=0, leaks=False)
    if not dropped:
        return text, False
    return _clean(_kept(text, units, dropped, len(units))), True


def visible_part(text: str, *, canary: str, system_prompt: str = "", min_words: int = 8) -> str:
    """Of a reply still arriving, what can be shown now: the finished sentences check_output keeps, in order."""
    units = _units(text)
    dropped, pending = _verdicts(text, units, canary=canary, system_prompt=system_prompt, min_words=min_words,
                                 final=False)
    shown = _kept(text, units, dropped, pending)
    return re.sub(r"\n{3,}", "\n\n", shown) if _WORDS.search(shown.casefold()) else ""
