"""The contract every engine meets: the offline engine and the LLM engine take the same input and give the same draft."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agent.core.types import Commitment, Hit, Opener, Phase


class HistoryItem(BaseModel):
    """One earlier message in the session, already trimmed to the context budget."""

    role: str  # "user" | "coach" | "summary"
    text: str


class EngineInput(BaseModel):
    """What the pipeline hands an engine for one turn."""

    message: str
    session: str = ""
    history: list[HistoryItem] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)  # what retrieval really returned this turn
    phase: Phase = "goal"  # the phase before this turn
    situation: str = ""  # the pipeline's guess; an engine may refine it
    asked: list[str] = Field(default_factory=list)  # every question already asked in this session
    open_commitment: Commitment | None = None  # from an earlier session, to ask about
    peer: str = ""  # the person or role named, when the message is about a peer relationship
    advice_permitted: bool = False  # the person asked for advice or gave permission
    turn_index: int = 0  # how many user turns came before this one in the session


class EngineOutput(BaseModel):
    """An engine's draft; the pipeline validates it (guardrails, citations) before it becomes a CoachTurn."""

    reply: str
    questions: list[str] = Field(default_factory=list)
    cited_ids: list[str] = Field(default_factory=list)  # Chunk.id values the reply leaned on
    openers: list[Opener] = Field(default_factory=list)
    phase: Phase = "goal"
    situation: str = ""
    commitment: Commitment | None = None
    fallback: bool = False  # the model gave nothing usable, even re-asked; the offline engine wrote this turn


@runtime_checkable
class Engine(Protocol):
    """Turns an EngineInput into an EngineOutput; stream() yields text deltas, then the final EngineOutput."""

    name: str

    def respond(self, inp: EngineInput) -> EngineOutput: ...

    def stream(self, inp: EngineInput) -> Iterator[str | EngineOutput]: ...
