"""Session export: a readable Markdown transcript with citations and commitments, or full structured JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.store.records import CommitmentRecord, SessionInfo, StoredMessage


def _quote(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def to_markdown(info: SessionInfo, history: list[StoredMessage], commitments: list[CommitmentRecord]) -> str:
    lines = [f"# {info.title or 'Coaching session'}", "",
             f"- Session: `{info.id}`", f"- Started: {info.created_at}", f"- Last turn: {info.updated_at}",
             f"- Turns: {info.n_turns}", f"- Phase: {info.phase}", ""]
    sources: list[str] = []
    for msg in history:
        if msg.role == "user":
            lines += ["## You", "", msg.text, ""]
            continue
        lines += ["### Coach", "", msg.text, ""]
        turn = msg.turn
        if turn is None:
            continue
        lines += [f"**{q}**\n" for q in turn.questions if q not in msg.text]
        marks = []
        for cit in turn.citations:
            label = f"{cit.title} ({cit.source}, chunk {cit.chunk})"
            if label not in sources:
                sources.append(label)
            marks.append(f"- [{sources.index(label) + 1}] {label}: \"{_quote(cit.text)}\"")
        if marks:
            lines += ["Sources:", "", *marks, ""]
        if turn.openers:
            lines += ["Openers:", ""]
            lines += [f"{i}. {op.text}  \n   _{op.why}_" for i, op in enumerate(turn.openers, 1)]
            lines.append("")
        if turn.safety.category != "ok":
            lines += [f"_Safety: {turn.safety.category} ({turn.safety.action})_", ""]
    lines += ["## Commitments", ""]
    if not commitments:
        lines += ["None yet.", ""]
    for cm in commitments:
        when = f" by {cm.by_when}" if cm.by_when else ""
        measure = f"; I will know by: {cm.measure}" if cm.measure else ""
        box = "x" if cm.status == "done" else " "
        lines.append(f"- [{box}] {cm.what}{when}{measure} ({cm.status}, #{cm.id})")
    if sources:
        lines += ["", "## Sources", ""] + [f"{i}. {s}" for i, s in enumerate(sources, 1)]
    return "\n".join(lines).rstrip() + "\n"


def to_json(info: SessionInfo, history: list[StoredMessage], commitments: list[CommitmentRecord]) -> str:
    data = {
        "format": "socratic-coach.session/1",
        "session": info.model_dump(),
        "messages": [m.model_dump(mode="json") for m in history],
        "commitments": [c.model_dump(mode="json") for c in commitments],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
