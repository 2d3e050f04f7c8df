"""Text clean-up: whitespace normalisation, repeated titles, and web-page chrome left in scraped text."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SPREAD_PASSES = 8
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_ODD_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u202f]{2,}|[\t\u00a0\u2002\u2003\u2009\u202f]")
_TRAILING = re.compile(r"[ \t\u00a0\u2002\u2003\u2009\u202f]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_BULLETS = "×•·|»«›‹>→←▸▶◦*-–—:#"


def _phrases(packed: str) -> frozenset[str]:
    return frozenset(packed.split("|"))


# A line whose whole normalised text is one of these is page furniture, wherever it stands.
_STRONG_EXACT = _phrases(
    "jump to content|skip to content|skip to main content|skip to navigation|recommended posts|posted|"
    "share|share this|share this post|share this article|share this story|tweet|pin it|"
    "pin it on pinterest|follow me|follow us|reply|reply to this topic|quote|log in|login|log out|"
    "sign in|sign up|sign out|register|guest|subscribe|subscribe now|view the full article|"
    "join the conversation|create new|leave a comment|leave a reply|post a comment|add a comment|"
    "related posts|related articles|you may also like|cookie settings|cookie policy|accept cookies|"
    "accept all cookies|accept all|reject all|manage cookies|privacy policy|terms of use|"
    "all rights reserved|back to top|scroll to top|clear editor|paste as plain text instead|"
    "display as a link instead|like this|like|loading|print this page|email this|copy link|"
    "share via email|toggle navigation|main menu|open menu|close menu|advertisement|sponsored|"
    "read next|more from this author"
)
# Navigation words: furniture only next to other furniture (a lone "Home" might be a heading).
_WEAK_EXACT = _phrases(
    "home|menu|search|next|previous|prev|back|close|more|about|contact|comments|share on|tags|"
    "categories|archives|newsletter|get insights|followers|members|online|report|edit|top|permalink|"
    "sidebar|navigation"
)
# Furniture when the line reads like a label (short, no full stop): "Posted by Ann on 3 May", "Share on X".
_LABEL_PATTERNS = [
    re.compile(p)
    for p in (
        r"^(posted|published|updated|last updated)( on| by| in| at)?\b",
        r"^share (this|on|to|via|with)\b",
        r"^(follow|like) (us|me)\b",
        r"^(sign|log) (in|up|out)\b",
        r"^reply to (this|topic|comment)\b",
        r"^\d+ (comments?|replies|likes?|shares?|views?|reactions?|followers?)$",
        r"^(comments?|replies|likes?|shares?|views?) ?\(?\d+\)?$",
        r"^(click|tap) here\b",
        r"^(read|see|view) (more|the full (article|post|story))\b",
    )
]
_COPYRIGHT = re.compile(r"^(copyright|©)\b")
# Comment-editor and consent boilerplate, recognisable by its opening words at any length.
_FORM_OPENINGS = (
    r"^you can post now\b",
    r"^if you have an account\b",
    r"^pasted as rich text\b",
    r"^your link has been automatically embedded\b",
    r"^your previous content has been restored\b",
    r"^you cannot paste images\b",
    r"^only \d+ emoji\b",
    r"^by (using|continuing to use|browsing) (this|our) (web)?site\b",
    r"^this (web)?site uses cookies\b",
    r"^we use cookies\b",
)
_FORM_PATTERNS = re.compile("|".join(_FORM_OPENINGS))
_IMAGE_FILE = re.compile(r"^[\w.%()\[\]-]+\.(jpe?g|png|gif|webp|svg|bmp|avif|tiff?)(\?\S*)?$", re.IGNORECASE)
_COOKIE = re.compile(r"\bcookies?\b")
_COOKIE_CONTEXT = re.compile(
    r"\b(website|site|browser|consent|accept|policy|experience|necessary|analytics|marketing|traffic|ads|"
    r"advertising|disabled?|disabling|enable|visitors|preferences|categories|third[- ]party|tracking)\b"
)
_SUBSCRIBE = re.compile(r"^(subscribe|sign up|join)\b")
_SUBSCRIBE_CONTEXT = re.compile(
    r"\b(newsletter|insights|updates|inbox|mailing list|email|free|our|today|now)\b"
)
_SENTENCE_END = ".!?…\"”’')"


def normalize_whitespace(text: str) -> str:
    """Unify line ends and spaces, drop invisible characters and trailing spaces, allow one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
    # Leading indentation (Markdown code, nested lists) stays; runs of spaces after a word become one space.
    text = _TRAILING.sub("", _ODD_SPACES.sub(_squeeze, text))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def _squeeze(match: re.Match) -> str:
    at_line_start = match.start() == 0 or match.string[match.start() - 1] == "\n"
    return match.group() if at_line_start else " "


@dataclass(frozen=True)
class _Line:
    """A non-blank line, stripped, with its lowercase key (bullets and trailing dots gone) and word count."""

    text: str
    key: str
    words: int

    @classmethod
    def of(cls, line: str) -> _Line:
        text = line.strip()
        key = " ".join(text.strip(_BULLETS + " \u00a0").rstrip(".…").lower().split())
        return cls(text, key, key.count(" ") + 1 if key else 0)


def _reads_as_label(line: _Line, words: int) -> bool:
    """A short line without a closing full stop: a heading, a button or a link caption ("..." is allowed)."""
    truncated = line.text.endswith(("...", "…"))
    return bool(line.key) and line.words <= words and (truncated or line.text[-1] not in _SENTENCE_END)


def _strong_chrome(line: _Line) -> bool:
    """Is this line page furniture on its own evidence?"""
    key = line.key
    if not key:
        return not any(ch.isalnum() for ch in line.text)  # a line of bullets or symbols only
    if key in _STRONG_EXACT or (line.words == 1 and _IMAGE_FILE.match(key)):
        return True
    if _reads_as_label(line, 10) and any(p.match(key) for p in _LABEL_PATTERNS):
        return True
    if line.words <= 16 and _COPYRIGHT.match(key):
        return True
    if _FORM_PATTERNS.match(key):
        return True
    if "cookie" in key and _COOKIE.search(key) and _COOKIE_CONTEXT.search(key):
        return True
    return bool(
        line.words <= 12
        and _SUBSCRIBE.match(key)
        and (_SUBSCRIBE_CONTEXT.search(key) or _reads_as_label(line, 12))
    )


def strip_web_chrome(text: str) -> str:
    """Drop navigation, sharing, comment-form, sign-up and cookie furniture lines; keep the article."""
    lines = text.split("\n")
    idx = [i for i, line in enumerate(lines) if line.strip()]
    parsed = [_Line.of(lines[i]) for i in idx]
    chrome = [_strong_chrome(line) for line in parsed]  # by position among the non-blank lines
    weak = [line.key in _WEAK_EXACT for line in parsed]
    label = [_reads_as_label(line, 4) for line in parsed]
    n = len(idx)
    for _ in range(MAX_SPREAD_PASSES):  # furniture spreads to weak neighbours; a sweep each way per pass
        rest_is_chrome = [True] * (n + 1)  # rest_is_chrome[p]: every line from position p on is chrome
        for pos in range(n - 1, -1, -1):
            rest_is_chrome[pos] = rest_is_chrome[pos + 1] and chrome[pos]
        changed = False
        for pos in [*range(n), *range(n - 1, -1, -1)]:
            if chrome[pos] or not (weak[pos] or label[pos]):
                continue
            before = pos > 0 and chrome[pos - 1]
            after = pos + 1 < n and chrome[pos + 1]
            # A short label right before a trailing block of furniture ("Get Insights" above a sign-up box).
            tail_label = after and label[pos] and (before or rest_is_chrome[pos + 1])
            if (weak[pos] and (before or after)) or tail_label:
                chrome[pos] = changed = True
        if not changed:
            break
    dropped = {i for pos, i in enumerate(idx) if chrome[pos]}
    kept = [line for i, line in enumerate(lines) if i not in dropped]
    return normalize_whitespace("\n".join(kept))


def collapse_repeated_lines(text: str) -> str:
    """Keep one of a run of identical non-blank lines (blank lines between ignored), e.g. a title shown 3x."""
    out: list[str] = []
    last = None
    for line in text.split("\n"):
        key = line.strip().casefold()
        if key and key == last:
            while out and not out[-1].strip():
                out.pop()  # also drop the blank line that separated the repeats
            continue
        if key:
            last = key
        out.append(line)
    return "\n".join(out)


def clean_text(text: str) -> str:
    """The clean-up for Markdown notes and PDF text: whitespace and repeated lines only."""
    return normalize_whitespace(collapse_repeated_lines(normalize_whitespace(text)))


def clean_web_text(text: str) -> str:
    """The clean-up for scraped pages (.txt and extracted HTML): also drops web chrome."""
    return strip_web_chrome(clean_text(text))
