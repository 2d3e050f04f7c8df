"""Keeping hidden text hidden: retrieved text is defanged into data, and replies are checked for leaks."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from agent.guardrails_rules import load_rules
from agent.guardrails_text import BASE64_RUN, decode_base64, encoded_payloads, fold

MARK = "[instruction removed from source text]"
_PIECES = re.compile(r"(\n+|(?<=[.!?])[ \t]+)")  # sentences and line breaks, separators kept
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_COMMENT = re.compile(r"<!--[\s\S]*?-->")
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")  # "ASCII smuggling": text in invisible tag characters
_WORDS = re.compile(r"[a-z0-9]+")
_ALNUM = re.compile(r"[^a-z0-9]")


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


@lru_cache(maxsize=16)
def _shingles(system_prompt: str, n: int) -> frozenset[tuple[str, ...]]:
    words = _WORDS.findall(fold(system_prompt))
    return frozenset(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def _canary_keys(canary: str) -> tuple[str, ...]:
    compact = _ALNUM.sub("", canary.casefold())
    hex_part = compact.removeprefix("canary")
    return tuple(k for k in (compact, hex_part if len(hex_part) >= 8 else "") if k)


def check_output(reply: str, *, canary: str, system_prompt: str = "", min_words: int = 8) -> tuple[str, bool]:
    """(reply minus canary lines, prompt runs and self-disclosures, whether anything went); "" if nothing is left."""
    rules = load_rules()
    keys = _canary_keys(canary) if canary else ()
    units: list[tuple[int, str]] = []  # (line number, sentence)
    dropped: set[int] = set()
    for line_no, line in enumerate(reply.split("\n")):
        compact = _ALNUM.sub("", line.casefold())
        leaked_line = any(k in compact for k in keys)
        for sentence in _SENTENCES.split(line) if line.strip() else [line]:
            if leaked_line or (sentence.strip() and rules.disclosure and
                               rules.disclosure.search(rules.normalise(sentence))):
                dropped.add(len(units))
            units.append((line_no, sentence))
    if system_prompt:
        shingles = _shingles(system_prompt, min_words)
        owners: list[int] = []
        words: list[str] = []
        for idx, (_, sentence) in enumerate(units):
            w = _WORDS.findall(fold(sentence))
            words += w
            owners += [idx] * len(w)
        for i in range(len(words) - min_words + 1):
            if tuple(words[i:i + min_words]) in shingles:
                dropped.update(owners[i:i + min_words])
    if not dropped:
        return reply, False
    lines: dict[int, list[str]] = {}
    blank: set[int] = set()
    for idx, (line_no, sentence) in enumerate(units):
        lines.setdefault(line_no, [])
        if not sentence.strip():
            blank.add(line_no)
        elif idx not in dropped:
            lines[line_no].append(sentence)
    kept = [" ".join(parts) if parts else "" for n, parts in sorted(lines.items()) if parts or n in blank]
    clean = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return (clean if _WORDS.search(clean.casefold()) else ""), True
