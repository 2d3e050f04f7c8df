"""Peer-map helpers: chart rows, urgency order and the situation openers are drafted for."""

from __future__ import annotations

from agent.coach.openers import detect_stance, extract_peer
from agent.peers.map import chart_rows, ranked, situation_for
from agent.store.memory import PeerRecord

DANA = PeerRecord(
    id=1,
    name="Dana",
    role="Head of Sales",
    vital=5,
    frequency=2,
    quality=2,
    trust=1,
    stance="anti-sponsor",
    notes="Feels left out of planning.",
)
LEE = PeerRecord(id=2, name="Lee", vital=2, quality=4, trust=5, stance="sponsor")


def test_chart_rows_carry_every_encoded_field():
    row = chart_rows([DANA])[0]
    assert {k: row[k] for k in ("name", "vital", "quality", "frequency", "trust", "stance")} == {
        "name": "Dana",
        "vital": 5,
        "quality": 2,
        "frequency": 2,
        "trust": 1,
        "stance": "Anti-sponsor",
    }


def test_vital_weak_relationships_rank_first():
    assert [p.name for p in ranked([LEE, DANA])] == ["Dana", "Lee"]


def test_situation_names_the_peer_and_reads_as_their_stance():
    text = situation_for(DANA)
    assert extract_peer(text) == "Dana"
    assert detect_stance(text) == "conflict"
    assert "Head of Sales" in text and "left out of planning" in text
    assert detect_stance(situation_for(LEE)) == "sponsor"
