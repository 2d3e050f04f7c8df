"""A stored sample session shared by the brief and session-prep UI tests: a peer, a citation, a commitment."""

from __future__ import annotations

from agent.core.types import Citation, CoachTurn, Commitment
from agent.store.memory import PeerRecord, Store

CIT = Citation(source="peers.md", title="Mapping your peers", chunk=1, text="Rate each relationship.",
               link="https://example.org/peers", start=0, end=23)
COMMITMENT = Commitment(what="call Priya about the launch", by_when="Friday")
# What redaction must remove from a brief of the session: a name, an e-mail address, a phone number.
SECRETS = ("Priya", "Shah", "priya@acme.io", "7946")


def peer_session(store: Store) -> str:
    """Two turns (reality, then will with a commitment) about a peer named by name, e-mail and phone; its id."""
    sid = store.create_session("Peer trouble")
    store.record_turn(sid, "I feel stuck with Priya Shah, she ignores my emails at priya@acme.io.", CoachTurn(
        reply="That sounds frustrating.", questions=["What have you tried so far?"], phase="reality",
        situation="peer_conflict", citations=[CIT]))
    store.record_turn(sid, "I could call her on +44 20 7946 0958 and ask what she needs from my team.", CoachTurn(
        reply="What will you do first?", questions=["What will you do first?"], phase="will",
        situation="peer_conflict", commitment=COMMITMENT))
    store.add_peer(PeerRecord(name="Priya Shah", role="Head of Sales"))
    return sid
