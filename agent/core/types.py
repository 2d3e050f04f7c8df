"""Typed records shared by ingest, retrieval, the coach, the store, the UI and the evals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Phase = Literal["goal", "reality", "options", "will", "closed"]
SafetyCategory = Literal[
    "ok", "crisis", "harassment", "discrimination", "legal", "medical", "injection", "off_topic", "output_fixed"
]
SafetyAction = Literal[
    "coach", "crisis_resources", "check_in", "refer", "refuse_and_continue", "redirect", "repaired"
]


class Chunk(BaseModel):
    """One indexed passage with enough provenance to cite and highlight it."""

    id: str
    source: str  # the file's name, e.g. "003_00c1a398aadbf7d9.txt" or "career-change.md"
    title: str
    text: str
    chunk: int  # chunk number within its source, from 0
    start: int  # character offsets into the cleaned text of the source
    end: int
    heading: str = ""  # heading path, "H1 > H2"
    link: str = ""  # link to the original, from front matter, when known
    author: str = ""
    tokens: int = 0


class Hit(BaseModel):
    """A retrieved chunk with its fused score, best first in a result list."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    sparse_rank: int | None = None


class Citation(BaseModel):
    """A passage a reply leaned on; it must be one retrieval returned for that turn."""

    source: str
    title: str
    chunk: int
    text: str
    link: str = ""
    start: int = 0
    end: int = 0


class Opener(BaseModel):
    """A radical-ownership conversation opener for a named peer relationship."""

    text: str
    why: str
    citation: Citation | None = None


class Safety(BaseModel):
    """What the guardrails decided for a turn."""

    category: SafetyCategory = "ok"
    action: SafetyAction = "coach"
    reason: str = ""


class Commitment(BaseModel):
    """What the person will do, by when, and how they will know."""

    what: str
    by_when: str = ""
    measure: str = ""
    status: Literal["open", "done", "dropped"] = "open"


class CoachTurn(BaseModel):
    """Everything one coaching turn returns, to the CLI, the UI and the evals alike."""

    reply: str
    questions: list[str] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    openers: list[Opener] = Field(default_factory=list)
    safety: Safety = Field(default_factory=Safety)
    phase: Phase = "goal"
    session: str = ""
    situation: str = ""
    commitment: Commitment | None = None
