"""The session store's records: sessions, messages, commitments and peers, as the store returns them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from agent.core.types import CoachTurn

Status = Literal["open", "done", "dropped"]
STATUSES: tuple[str, ...] = ("open", "done", "dropped")


class SessionInfo(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    n_turns: int
    phase: str


class StoredMessage(BaseModel):
    role: Literal["user", "coach"]
    text: str
    turn: CoachTurn | None = None
    created_at: str


class CommitmentRecord(BaseModel):
    id: int
    session: str
    what: str
    by_when: str = ""
    measure: str = ""
    status: Status = "open"
    created_at: str


class PeerRecord(BaseModel):
    """A working relationship on the person's map: how vital, how often, how good, how trusted, which stance."""

    id: int | None = None
    name: str = Field(min_length=1)
    role: str = ""
    vital: int = Field(3, ge=1, le=5)
    frequency: int = Field(3, ge=1, le=5)
    quality: int = Field(3, ge=1, le=5)
    trust: int = Field(3, ge=1, le=5)
    stance: Literal["sponsor", "anti-sponsor", "neutral"] = "neutral"
    notes: str = ""
