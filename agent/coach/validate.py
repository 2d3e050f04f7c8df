"""Checks between an engine's draft and the CoachTurn: real citations, fresh questions, a leak-safe stream."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agent.coach.engine import EngineInput
from agent.coach.openers import citation_for
from agent.coach.questions import load_bank, normalise, variables
from agent.core.types import Citation, Hit, Opener

MAX_QUESTIONS = 2
_DONE = re.compile(r"\b(?:did\s+it|done|went\s+(?:well|ok|okay|fine|great|better)|i\s+did|talked|spoke|"
                   r"had\s+the\s+conversation|finished|completed|managed\s+to|it\s+happened|sent|"
                   r"asked\s+(?:her|him|them))\b", re.I)
_NOT_DONE = re.compile(r"\b(?:didn't|did\s+not|haven't|have\s+not|not\s+yet|never|couldn't|wasn't\s+able)\b",
                       re.I)
_DROPPED = re.compile(r"\b(?:no\s+longer|dropped|not\s+relevant|gave\s+up|decided\s+not\s+to|"
                      r"let\s+it\s+go)\b", re.I)


def citations_and_markers(reply: str, cited_ids: list[str], hits: list[Hit]) -> tuple[str, list[Citation]]:
    """Citations for ids retrieval returned this turn; [n] markers renumbered, others dropped."""
    by_id = {h.chunk.id: h for h in hits}
    citations: list[Citation] = []
    new_number: dict[int, int] = {}
    seen: dict[str, int] = {}
    for i, cid in enumerate(cited_ids, start=1):
        if cid not in by_id:
            continue
        if cid not in seen:
            citations.append(citation_for(by_id[cid]))
            seen[cid] = len(citations)
        new_number[i] = seen[cid]

    def renumber(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[{new_number[n]}]" if n in new_number else ""

    fixed = re.sub(r"\[(\d{1,2})\]", renumber, reply)
    if any(n not in new_number for n in map(int, re.findall(r"\[(\d{1,2})\]", reply))):
        fixed = re.sub(r"[ \t]{2,}", " ", re.sub(r"[ \t]+([.,;:!?])", r"\1", fixed))
    return fixed.strip(), citations


def _fallback_question(inp: EngineInput, asked: set[str]) -> str:
    bank = load_bank()
    phase = inp.phase if inp.phase != "closed" else "goal"
    for sit in (inp.situation, "general"):
        for ph in (phase, "reality", "options", "will", "goal"):
            for q in bank.questions.get(sit, {}).get(ph, []):
                if not variables(q) and normalise(q) not in asked:
                    return q
    return f"What feels most important to you right now, at turn {inp.turn_index + 1}?"


def dedupe_questions(reply: str, questions: list[str], asked: list[str],
                     inp: EngineInput) -> tuple[str, list[str]]:
    """At most two questions, none asked before in the session; a repeated one is cut from the reply too."""
    seen = {normalise(q) for q in asked}
    kept: list[str] = []
    for q in questions:
        q = q.strip()
        key = normalise(q)
        if not key:
            continue
        if key in seen or len(kept) >= MAX_QUESTIONS:
            reply = reply.replace(q, "").strip()
            continue
        seen.add(key)
        kept.append(q)
    if questions and not kept:
        fresh = _fallback_question(inp, seen)
        reply = f"{reply} {fresh}".strip()
        kept.append(fresh)
    for q in kept:
        if q not in reply:
            reply = f"{reply} {q}".strip()
    return " ".join(reply.split()), kept


def safe_openers(openers: list[Opener], hits: list[Hit]) -> list[Opener]:
    """Openers whose citations point at this turn's hits; any other citation is dropped."""
    real = {(h.chunk.source, h.chunk.chunk): h for h in hits}
    out = []
    for op in openers[:3]:
        cit = op.citation
        hit = real.get((cit.source, cit.chunk)) if cit else None
        out.append(op.model_copy(update={"citation": citation_for(hit) if hit else None}))
    return out


def stream_guard(canary: str) -> Callable[[str | None], str]:
    """A filter for streamed deltas: holds back a canary's length so a leak is never shown; None flushes."""
    state = {"sent": 0, "text": "", "leaked": False}
    hold = max(len(canary), 1)

    def feed(piece: str | None) -> str:
        if state["leaked"]:
            return ""
        if piece is not None:
            state["text"] += piece
        text = state["text"]
        if canary and canary in text:
            state["leaked"] = True
            return ""
        upto = len(text) if piece is None else max(len(text) - hold, state["sent"])
        out = text[state["sent"]:upto]
        state["sent"] = upto
        return out

    return feed


def commitment_follow_up(store: Any, session_id: str | None, prev: Any, message: str) -> None:
    """After asking about last session's commitment, mark it done or dropped when the answer says so."""
    if session_id is None or prev is None or not prev.questions:
        return
    rec = store.last_open_commitment(exclude_session=session_id)
    if rec is None or normalise(rec.what) not in normalise(" ".join(prev.questions)):
        return
    if _DROPPED.search(message):
        store.set_commitment_status(rec.id, "dropped")
    elif _DONE.search(message) and not _NOT_DONE.search(message):
        store.set_commitment_status(rec.id, "done")
