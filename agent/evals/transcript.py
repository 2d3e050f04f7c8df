"""What a case run produces: each user message with the CoachTurn it got and the hits retrieval returned."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agent.core.types import CoachTurn, Hit, Opener


class Exchange(BaseModel):
    """One user message, the coach's turn, and what retrieval returned for it."""

    user: str
    turn: CoachTurn
    hits: list[Hit] = Field(default_factory=list)
    ms: float = 0.0
    tags: list[str] = Field(default_factory=list)  # the case turn's tags (pushback, advice_request, ...)
    not_said: list[str] = Field(default_factory=list)

    @property
    def coaching(self) -> bool:
        """True when the guardrails let the coach coach (crisis or refusal replies are graded elsewhere)."""
        return self.turn.safety.action in ("coach", "repaired")


class Transcript(BaseModel):
    """A whole case run: one or more sessions of exchanges, plus openers when the case asked for them."""

    case_id: str = ""
    exchanges: list[Exchange] = Field(default_factory=list)
    openers: list[Opener] = Field(default_factory=list)
    opener_hits: list[Hit] = Field(default_factory=list)
    opener_request: str = ""
    canary: str = ""
    system_prompt: str = ""
    error: str = ""

    @property
    def coaching_exchanges(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.coaching]

    @property
    def replies(self) -> list[str]:
        return [e.turn.reply for e in self.exchanges]


def transcript_of(pairs: list[tuple[str, CoachTurn]], case_id: str = "") -> Transcript:
    """A Transcript from (user message, CoachTurn) pairs: handy in tests and for hand-built examples."""
    return Transcript(case_id=case_id, exchanges=[Exchange(user=u, turn=t) for u, t in pairs])
