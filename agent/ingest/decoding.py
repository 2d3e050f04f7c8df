"""Bytes to text, refusing binaries.

Policy: a BOM decides (UTF-8, UTF-16, UTF-32); without one, NUL bytes mean binary; then strict UTF-8; then
cp1252 (Windows "ANSI", a superset of printable Latin-1) only when the result looks like prose: no control
characters and mostly ASCII. Anything else is "undecodable" rather than guessed, because a wrong guess would
index mojibake that no query matches.
"""

from __future__ import annotations

import codecs
import unicodedata

from agent.core.errors import IngestError

MAX_CONTROL_RATIO = 0.01  # a few stray escape codes are tolerated; binaries have far more
MIN_ASCII_RATIO_CP1252 = 0.7

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),  # before UTF-16: FF FE is a prefix of both
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = set("\t\n\r\f\v")


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc")
    return bad / len(text)


def decode_text(data: bytes) -> str:
    """Decode file bytes per the module policy; IngestError says why when the bytes are not text."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    f"undecodable: has a {codec} byte-order mark but invalid bytes at {exc.start}"
                ) from None
            return text.lstrip("\ufeff")
    if b"\x00" in data:
        raise IngestError("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = _cp1252_or_none(data)
        if text is None:
            raise IngestError(
                f"undecodable: not UTF-8 (bad byte at offset {exc.start}) and not plausible cp1252 text"
            ) from None
    if _control_ratio(text) > MAX_CONTROL_RATIO:
        raise IngestError("binary file (control characters), not text")
    return text


def _cp1252_or_none(data: bytes) -> str | None:
    """Windows-1252 text, or None when the bytes do not read as prose in it."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in cp1252
        return None
    ascii_share = sum(1 for ch in text if ch < "\x80") / len(text)
    if _control_ratio(text) > 0 or ascii_share < MIN_ASCII_RATIO_CP1252:
        return None
    return text
