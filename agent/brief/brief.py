"""The session-prep brief a coach reads before the next session: themes, quotes, phase, commitments."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from agent.brief.redact import COMMON_WORDS, redact
from agent.core.errors import CoachError

PHASE_ORDER = ("goal", "reality", "options", "will", "closed")
PHASE_NAMES = {"goal": "Goal", "reality": "Reality", "options": "Options", "will": "Will", "closed": "Closed"}
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[a-z][a-z'’-]{3,}")
_VOICE = re.compile(r"\b(i|i'm|i've|my|me|we|our)\b", re.IGNORECASE)
_FEELING = re.compile(
    r"\b(feel\w*|worr\w*|frustrat\w*|stuck|afraid|scar\w*|excit\w*|want\w*|need\w*|hope\w*|"
    r"tired|angry|nervous|anxious|proud|unsure|lost|overwhelm\w*|miss\w*|wish\w*)\b",
    re.IGNORECASE,
)
_STOP = COMMON_WORDS | {
    "about",
    "would",
    "could",
    "there",
    "their",
    "which",
    "being",
    "thing",
    "things",
    "really",
    "going",
    "doesn't",
    "didn't",
    "can't",
    "won't",
    "isn't",
    "that's",
    "it's",
    "i'm",
    "don't",
    "much",
    "many",
    "lot",
    "still",
    "even",
    "every",
    "getting",
    "gets",
    "got",
    "into",
}


class SessionBrief(BaseModel):
    """Everything a coach needs before the next session, as plain data (rendered by to_markdown)."""

    session: str
    title: str
    created_at: str = ""
    n_turns: int = 0
    phase: str = "goal"
    themes: list[str] = Field(default_factory=list)
    quotes: list[str] = Field(default_factory=list)
    commitments: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    sources: list[tuple[str, str]] = Field(default_factory=list)  # (title, link)
    redacted: bool = False


def phase_reached(phases: list[str]) -> str:
    """The furthest GROW phase any turn reached."""
    known = [p for p in phases if p in PHASE_ORDER]
    return max(known, key=PHASE_ORDER.index) if known else "goal"


def client_quotes(messages: list[str], limit: int = 5, max_chars: int = 160) -> list[str]:
    """Short sentences in the client's own voice, favouring first person and feelings, in the order said."""
    scored: list[tuple[float, int, str]] = []
    for order, sentence in enumerate(s.strip() for m in messages for s in _SENTENCE_BREAK.split(m)):
        words = sentence.split()
        if not 4 <= len(words) <= 30:
            continue
        score = 1.0 + bool(_VOICE.search(sentence)) + 1.5 * bool(_FEELING.search(sentence))
        score -= 0.5 * (len(words) > 22)
        scored.append(
            (score, order, sentence[:max_chars].rstrip() + ("…" if len(sentence) > max_chars else ""))
        )
    best = sorted(scored, key=lambda t: (-t[0], t[1]))[:limit]
    seen: set[str] = set()
    quotes = []
    for _, _, text in sorted(best, key=lambda t: t[1]):
        if text.lower() not in seen:
            seen.add(text.lower())
            quotes.append(text)
    return quotes


def keywords(messages: list[str], limit: int = 5) -> list[str]:
    """The words the client keeps coming back to (repeated, not common)."""
    counts = Counter(w.strip("'’-") for m in messages for w in _WORD.findall(m.lower()))
    ranked = [(w, n) for w, n in counts.most_common() if w not in _STOP and len(w) > 3]
    return [w for w, n in ranked if n >= 2][:limit]


def _situation_labels(names: list[str]) -> list[str]:
    try:
        from agent.coach.situations import FALLBACK, load_situations

        sits = load_situations()
    except CoachError:  # a broken situations file should not block the brief; themes fall back to keywords
        return []
    return [sits[n].label for n in dict.fromkeys(names) if n in sits and n != FALLBACK]


def next_questions(situations: list[str], phase: str, asked: list[str], limit: int = 5) -> list[str]:
    """Unasked open questions from the bank that fit where the session got to (this phase, then the next)."""
    try:
        from agent.coach.questions import load_bank, normalise
    except ImportError:
        return []
    bank = load_bank()
    done = {normalise(q) for q in asked}
    order = ["reality", "options", "will", "goal"]
    if phase in ("goal", "reality", "options", "will"):
        i = PHASE_ORDER.index(phase)
        order = [phase] + [p for p in PHASE_ORDER[i + 1 : 4]] + [p for p in PHASE_ORDER[:i]]
    elif phase == "closed":
        order = ["will", "goal"]
    picked: list[str] = []
    for sit in (list(dict.fromkeys(situations)) or []) + ["general"]:
        for p in order[:2]:
            for q in bank.for_phase(sit, p):
                if "{" in q or normalise(q) in done or q in picked:
                    continue
                picked.append(q)
                break
        if len(picked) >= limit:
            break
    return picked[:limit]


def build_brief(
    store: Any, session_id: str, *, redact_names: bool = False, known_names: list[str] | None = None
) -> SessionBrief:
    """The brief for one stored session; redact_names strips names, e-mails and phones from their words."""
    info = store.get_session(session_id)
    history = store.history(session_id)
    user_texts = [m.text for m in history if m.role == "user"]
    turns = [m.turn for m in history if m.role == "coach" and m.turn is not None]
    situations = [t.situation for t in turns if t.situation]
    phase = phase_reached([t.phase for t in turns] + [info.phase])
    names = known_names if known_names is not None else [p.name for p in store.list_peers()]
    clean: Callable[[str], str] = (lambda s: redact(s, names)) if redact_names else (lambda s: s)

    themes = _situation_labels(situations) + [f"keeps mentioning “{w}”" for w in keywords(user_texts)]
    commitments = []
    for c in store.commitments(session_id, status=None):
        line = (
            c.what
            + (f", by {c.by_when}" if c.by_when else "")
            + (f" (measure: {c.measure})" if c.measure else "")
        )
        commitments.append(f"{line} [{c.status}]")
    questions = [f"How did it go with: {c.what}?" for c in store.commitments(session_id, status="open")][:2]
    questions += next_questions(
        situations, phase, store.asked_questions(session_id), limit=5 - len(questions)
    )
    sources: dict[str, tuple[str, str]] = {}
    for t in turns:
        for cit in t.citations:
            sources.setdefault(cit.source, (cit.title or cit.source, cit.link))
    return SessionBrief(
        session=session_id,
        title=clean(info.title or "Untitled session"),
        created_at=info.created_at,
        n_turns=info.n_turns,
        phase=phase,
        themes=[clean(t) for t in themes],
        quotes=[clean(q) for q in client_quotes(user_texts)],
        commitments=[clean(c) for c in commitments],
        questions=[clean(q) for q in questions],
        sources=list(sources.values()),
        redacted=redact_names,
    )


def to_markdown(brief: SessionBrief) -> str:
    """The brief as Markdown, the text the coach edits and exports."""

    def bullets(items: list[str], empty: str) -> list[str]:
        return [f"- {i}" for i in items] or [f"- _{empty}_"]

    removed = " Names, e-mail addresses and phone numbers removed." if brief.redacted else ""
    grow = " → ".join(PHASE_NAMES[p] for p in PHASE_ORDER[:4])
    lines = [
        f"# Session prep: {brief.title}",
        "",
        (
            f"Session {brief.session}, started {brief.created_at[:10] or 'unknown'}, "
            f"{brief.n_turns} turn(s).{removed}"
        ),
        "",
        "## Themes",
        *bullets(brief.themes, "none yet"),
        "",
        "## The client's own words",
        *bullets([f"“{q}”" for q in brief.quotes], "nothing quotable yet"),
        "",
        "## Phase reached",
        f"{PHASE_NAMES.get(brief.phase, brief.phase)} ({grow})",
        "",
        "## Commitments",
        *bullets(brief.commitments, "none recorded"),
        "",
        "## Questions for next time",
        *bullets(brief.questions, "none suggested"),
        "",
        "## Sources cited",
        *bullets([f"{t} <{link}>" if link else t for t, link in brief.sources], "none"),
        "",
    ]
    return "\n".join(lines)
