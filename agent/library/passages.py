"""A cited passage inside its surrounding text, and that text as escaped HTML with only our own <mark>."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


class PassageView(BaseModel):
    """The text before a cited passage, the passage, and the text after it (all plain, unescaped)."""

    before: str
    passage: str
    after: str


def _stitch(chunks: Sequence[Any]) -> tuple[int, str]:
    """Rebuild the source text a run of (possibly overlapping) chunks covers; returns (offset, text)."""
    ordered = sorted(chunks, key=lambda c: c.start)
    origin = ordered[0].start
    buf: list[str] = []
    cursor = origin
    for c in ordered:
        if c.end <= cursor:
            continue
        if c.start > cursor:  # a gap between chunks (skipped whitespace): keep the words apart
            buf.append("\n" if c.start - cursor > 1 else " ")
            cursor = c.start
        buf.append(c.text[cursor - c.start :])
        cursor = c.end
    return origin, "".join(buf)


def _trim(text: str, limit: int, keep_end: bool) -> str:
    """Cut `text` to about `limit` characters at a word boundary, keeping its end (or start)."""
    if len(text) <= limit:
        return text
    if keep_end:
        cut = text[-limit:]
        space = cut.find(" ")
        return "… " + (cut[space + 1 :] if 0 <= space < 40 else cut)
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit - 40 else cut) + " …"


def passage_view(citation: Any, chunks: Sequence[Any], context_chars: int = 400) -> PassageView:
    """Place the citation inside its neighbouring chunks (the chunk before and after), by char offsets."""
    own = [c for c in chunks if abs(c.chunk - citation.chunk) <= 1]
    if not own:
        return PassageView(before="", passage=citation.text, after="")
    origin, text = _stitch(own)
    start, end = citation.start - origin, citation.end - origin
    if not (0 <= start < end <= len(text)) or (
        citation.text and text[start:end].strip() != citation.text.strip()
    ):
        found = text.find(citation.text) if citation.text else -1
        if found < 0:
            return PassageView(before="", passage=citation.text, after="")
        start, end = found, found + len(citation.text)
    return PassageView(
        before=_trim(text[:start], context_chars, keep_end=True),
        passage=text[start:end],
        after=_trim(text[end:], context_chars, keep_end=False),
    )


def highlighted_html(view: PassageView) -> str:
    """Escaped text with the passage in <mark>: document text escaped, only our tags live."""
    return (
        '<div class="coach-passage" style="white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.5">'
        f"{html.escape(view.before)}<mark>{html.escape(view.passage)}</mark>{html.escape(view.after)}</div>"
    )


_MD_SPECIALS = set("\\`*_{}[]()<>#+-.!|~=:$&\"'")


def escape_markdown(text: str) -> str:
    """Text that Markdown shows verbatim: no live links, images, HTML or formatting; line breaks kept."""
    escaped = "".join("\\" + ch if ch in _MD_SPECIALS else ch for ch in text)
    return escaped.replace("\n", "  \n")  # two spaces make a hard break, so lists and addresses keep their lines


def safe_link(url: str) -> str:
    """The URL when it is a plain http(s) link safe to put in Markdown, else ""."""
    url = (url or "").strip()
    if not url.lower().startswith(("http://", "https://")) or any(ch in url for ch in " <>()[]\"'`\\\n"):
        return ""
    return url
