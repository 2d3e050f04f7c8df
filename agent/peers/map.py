"""The peer map: chart rows for the relationship landscape, and the situation an opener is drafted for."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

STANCES: tuple[str, ...] = ("sponsor", "neutral", "anti-sponsor")
STANCE_LABELS = {"sponsor": "Sponsor", "neutral": "Neutral", "anti-sponsor": "Anti-sponsor"}
SCALE = {1: "very low", 2: "low", 3: "middling", 4: "high", 5: "very high"}


def chart_rows(peers: Iterable[Any]) -> list[dict[str, Any]]:
    """One plain dict per peer for the scatter: x vital, y quality, size frequency, colour trust."""
    rows = []
    for peer in peers:
        rows.append(
            {
                "id": peer.id,
                "name": peer.name,
                "role": peer.role,
                "vital": peer.vital,
                "quality": peer.quality,
                "frequency": peer.frequency,
                "trust": peer.trust,
                "stance": STANCE_LABELS.get(peer.stance, peer.stance),
                "notes": peer.notes,
                "priority": priority(peer),
            }
        )
    return rows


def priority(peer: Any) -> float:
    """How urgently a relationship needs work: vital but weak (low quality or trust) ranks first."""
    gap = (5 - peer.quality) + (5 - peer.trust)
    stance_weight = {"anti-sponsor": 1.5, "neutral": 1.0, "sponsor": 0.75}.get(peer.stance, 1.0)
    return round(peer.vital * gap * stance_weight / 8, 2)


def ranked(peers: Iterable[Any]) -> list[Any]:
    """Peers ordered by priority, most urgent first."""
    return sorted(peers, key=lambda p: (-priority(p), p.name.lower()))


def peer_label(peer: Any) -> str:
    """ "Name (role)" for pickers and headings."""
    return f"{peer.name} ({peer.role})" if peer.role else peer.name


def situation_for(peer: Any) -> str:
    """A plain-language situation built from the peer record, for drafting conversation openers."""
    who = f"{peer.name}, {peer.role}" if peer.role else peer.name
    parts = [
        f"My relationship with {who} is {SCALE.get(peer.vital, 'middling')} in importance to my mission.",
        (
            f"We talk with {SCALE.get(peer.frequency, 'middling')} frequency;"
            f" the quality of our communication is {SCALE.get(peer.quality, 'middling')}"
            f" and the trust between us is {SCALE.get(peer.trust, 'middling')}."
        ),
    ]
    if peer.stance == "sponsor":
        parts.append("They tend to support me and my work.")
    elif peer.stance == "anti-sponsor":
        parts.append("They may be working against me, and I want to understand their concerns.")
    if peer.notes.strip():
        parts.append(f"Notes: {peer.notes.strip()}")
    parts.append("I want to open a conversation that builds the relationship.")
    return " ".join(parts)
