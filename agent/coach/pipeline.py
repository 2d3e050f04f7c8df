"""One coaching turn: guard the message, retrieve, generate, guard the reply, validate, persist."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.grow import gives_permission, wants_advice
from agent.coach.history import fit_history
from agent.coach.offers import substantive
from agent.coach.openers import draft_openers, extract_peer, is_name
from agent.coach.parsing import last_question
from agent.coach.questions import load_bank
from agent.coach.situations import detect, is_peer
from agent.coach.validate import (
    citations_and_markers,
    commitment_follow_up,
    dedupe_questions,
    safe_openers,
    stream_guard,
)
from agent.core.errors import CoachError
from agent.core.types import CoachTurn, Commitment, Hit, Opener, Safety

MAX_MESSAGE_CHARS = 8000
HISTORY_CACHE = 8  # sessions whose messages stay in memory
FALLBACK_REASON = "model_fallback: the model gave no usable answer, even re-asked; the offline engine wrote this turn"
STOP_ACTIONS = ("crisis_resources", "check_in", "refer", "redirect")


class MessageError(CoachError, ValueError):
    """A message the coach cannot take: empty, or far too long."""


def _check(guards: Any, message: str, turns: list[CoachTurn],
           second_opinion: Callable[[Safety, str], Safety] | None = None) -> Safety:
    """The message's safety, read as an answer when the last turn was a check-in; one check-in a session at most."""
    if turns and turns[-1].safety.action == "check_in":
        safety = guards.after_check_in(turns[-1].safety, message)
    else:
        safety = guards.check_input(message)
    if safety.action == "check_in" and second_opinion is not None:
        safety = second_opinion(safety, message)  # the gray zone only: it can raise a check-in, never lower it
    if safety.action == "check_in" and any(t.safety.action == "check_in" for t in turns):
        # Asked once already: asking again on every borderline sentence would nag; crisis wording still stops.
        opinion = safety.reason.partition("; second opinion: ")[2]
        note = f"; second opinion: {opinion}" if opinion else ""
        return Safety(reason=f"check_in: already asked in this session{note}")
    return safety


@lru_cache(maxsize=2048)
def _neutralized(neutralize: Callable[[str], str], text: str) -> str:
    """guardrails.neutralize, cached: the same passages come back turn after turn."""
    return neutralize(text)


def _guards() -> Any:
    import agent.safety.guard as guards

    return guards


def session_peer(message: str, earlier: list[str]) -> str:
    """Who the conversation is about: a name in this message, else the latest name, else the latest role."""
    found = [extract_peer(text) for text in [message] + earlier[::-1][:20]]
    return next((p for p in found if is_name(p)), next((p for p in found if p), ""))


def clean_message(message: str) -> str:
    """The message without control characters; an empty or oversized one is a one-line MessageError."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", message or "").strip()
    # Lone surrogates (undecodable argv bytes, broken clients) cannot be stored or embedded as UTF-8.
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    if not text:
        raise MessageError("the message is empty; say what is on your mind")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageError(f"the message is {len(text)} characters; keep it under {MAX_MESSAGE_CHARS}")
    return text


class Coach:
    """The one entry point the CLI, the UI and the evals share: coach.turn(session, message) -> CoachTurn."""

    def __init__(self, settings: Any = None, *, engine: Any = None, searcher: Any = None, store: Any = None,
                 chat_model: Any = None) -> None:
        if settings is None:
            from agent.core.settings import load_settings

            settings = load_settings()
        self.settings = settings
        self._engine, self._searcher, self._store, self._chat_model = engine, searcher, store, chat_model
        self._cache: dict[str, list[Any]] = {}  # session id -> messages, so long sessions are not re-read

    @property
    def store(self) -> Any:
        if self._store is None:
            from agent.store.memory import open_store

            self._store = open_store(self.settings)
        return self._store

    @property
    def searcher(self) -> Any:
        if self._searcher is None:
            from agent.ingest.bundled import open_searcher

            self._searcher = open_searcher(self.settings)
        return self._searcher

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from agent.coach.engines import build_engine

            self._engine = build_engine(self.settings, chat_model=self._chat_model, store=self.store)
        return self._engine

    def _safety_model(self) -> Any:
        """The chat model for a safety second opinion: None when offline, switched off, or not buildable."""
        if not getattr(self.settings, "safety_second_opinion", True):
            return None
        if self._chat_model is not None or self.settings.provider == "offline":
            return self._chat_model
        try:
            return getattr(self.engine, "model", None)
        except CoachError:  # a missing key must not cost a safety turn: the check-in stands on its own
            return None

    def _second_opinion(self, safety: Safety, message: str) -> Safety:
        """A gray-zone check-in reviewed by the chat model, when there is one (resolved only now: it may be built)."""
        model = self._safety_model()
        if model is None:
            return safety
        from agent.safety.second_opinion import TIMEOUT_S, review

        return review(safety, message, model, timeout_s=min(TIMEOUT_S, self.settings.timeout))

    def new_session(self, title: str = "") -> str:
        return self.store.create_session(title)

    def turn(self, session_id: str | None, message: str) -> CoachTurn:
        """One full turn; returns the validated, persisted CoachTurn."""
        final = None
        for piece in self.stream_turn(session_id, message):
            if isinstance(piece, CoachTurn):
                final = piece
        assert final is not None
        return final

    def stream_turn(self, session_id: str | None, message: str) -> Iterator[str | CoachTurn]:
        """Text deltas as the reply is written, then the final CoachTurn (already persisted)."""
        message = clean_message(message)
        guards = _guards()
        history = self._history(session_id) if session_id is not None else []
        turns = [m.turn for m in history if m.role == "coach" and m.turn is not None]
        prev = turns[-1] if turns else None
        safety = _check(guards, message, turns, self._second_opinion)
        if safety.action in STOP_ACTIONS:
            reply = guards.safe_reply(safety, message)
            yield reply
            yield self._persist(session_id, message, CoachTurn(
                reply=reply, safety=safety, phase=prev.phase if prev else "goal",
                situation=prev.situation if prev else ""))
            return
        bank = load_bank()
        prefix = ""
        focus = message
        if safety.action == "refuse_and_continue":
            prefix = guards.safe_reply(safety, message) or bank.template("injection")
            focus = self._without_injection(message, guards)
        turn_index = sum(1 for m in history if m.role == "user")
        user_texts = [m.text for m in history if m.role == "user"]
        query = focus if substantive(focus) or not user_texts else f"{user_texts[-1]} {focus}"
        hits: list[Hit] = self.searcher.search(query, k=self.settings.top_k)
        engine_hits = [h.model_copy(update={"chunk": h.chunk.model_copy(update={"text": _neutralized(
            guards.neutralize, h.chunk.text)})}) for h in hits]
        context = " ".join(user_texts[-3:])
        det = detect(focus, engine_hits, context)
        situation = det.name if det.name != "general" or prev is None else (prev.situation or det.name)
        peer = session_peer(focus, user_texts) if is_peer(situation) else ""
        open_commitment = self._open_commitment(session_id) if turn_index == 0 else None
        last_reply = prev.reply if prev else ""
        # The same list store.asked_questions gives, without reading the history a second time.
        asked = list(dict.fromkeys(q for t in turns for q in t.questions))
        inp = EngineInput(
            message=focus, session=session_id or "", hits=engine_hits, phase=prev.phase if prev else "goal",
            situation=situation, asked=asked, open_commitment=open_commitment,
            peer=peer if is_peer(situation) else "", turn_index=turn_index,
            advice_permitted=wants_advice(focus) or gives_permission(focus, last_reply))
        inp.history = fit_history(history, self.settings.context_budget, [focus] + [h.chunk.text for h in engine_hits])
        engine = self.engine
        canary = getattr(engine, "canary", None) or guards.make_canary()
        out: EngineOutput | None = None
        if prefix:
            yield prefix + " "
        guard = stream_guard(canary)
        for piece in engine.stream(inp):  # a ProviderError propagates: nothing has been written yet
            if isinstance(piece, EngineOutput):
                out = piece
            else:
                safe = guard(piece)
                if safe:
                    yield safe
        if out is None:
            raise CoachError("the engine returned no reply")
        yield from guard(None) or []
        turn = self._persist(session_id, message,
                             self._validate(out, hits, asked, inp, safety, prefix, canary, engine, guards,
                                            shown=any(t.openers for t in turns)))
        if turn_index == 1:
            commitment_follow_up(self.store, session_id, prev, message)
        yield turn

    def _validate(self, out: EngineOutput, hits: list[Hit], asked: list[str], inp: EngineInput,
                  safety: Safety, prefix: str, canary: str, engine: Any, guards: Any,
                  shown: bool) -> CoachTurn:
        """Check the reply, keep only real citations and fresh questions, and build the CoachTurn."""
        system = engine.system_prompt() if callable(getattr(engine, "system_prompt", None)) else ""
        reply, repaired = guards.check_output(out.reply, canary=canary, system_prompt=system)
        # Questions and openers reach the person too (dedupe_questions even writes questions into the reply).
        fresh = [q for q in out.questions if not guards.check_output(q, canary=canary, system_prompt=system)[1]]
        drafted = [o for o in out.openers
                   if not guards.check_output(f"{o.text}\n{o.why}", canary=canary, system_prompt=system)[1]]
        repaired = repaired or len(fresh) < len(out.questions) or len(drafted) < len(out.openers)
        if not reply and not fresh:  # the guardrails took it all: their reply for repaired output, not an empty turn
            reply = guards.safe_reply(Safety(category="output_fixed", action="repaired"))
            fresh = [q for q in [last_question(reply)] if q]
        reply, citations = citations_and_markers(reply, out.cited_ids, hits)
        reply, questions = dedupe_questions(reply, fresh, asked, inp)
        openers: list[Opener] = safe_openers(drafted, hits)
        situation = out.situation or inp.situation
        due = out.phase in ("options", "will") or not shown  # first time, or when they weigh how to act
        if not openers and is_peer(situation) and inp.peer and due:
            openers = draft_openers(inp.message, inp.peer, hits)
        if repaired and safety.category == "ok":
            safety = Safety(category="output_fixed", action="repaired", reason="the reply leaked hidden text")
        elif out.fallback and safety.category == "ok":
            safety = safety.model_copy(update={"reason": "; ".join(filter(None, (safety.reason, FALLBACK_REASON)))})
        commitment = out.commitment if out.commitment and out.commitment.what.strip() else None
        return CoachTurn(reply=(prefix + " " + reply).strip() if prefix else reply, questions=questions,
                         citations=citations, openers=openers, safety=safety, phase=out.phase,
                         session=inp.session, situation=situation, commitment=commitment)

    def _persist(self, session_id: str | None, message: str, turn: CoachTurn) -> CoachTurn:
        # A first turn stores its session row in the same transaction: a crash leaves a whole session or none.
        sid = session_id or self.store.new_session_id()
        turn = turn.model_copy(update={"session": sid})
        self.store.record_turn(sid, message, turn, new=session_id is None)
        cached = self._cache.get(sid)
        if cached is not None or session_id is None:
            from agent.store.memory import StoredMessage, now

            stamp = now()
            self._cache[sid] = (cached or []) + [StoredMessage(role="user", text=message, created_at=stamp),
                                                 StoredMessage(role="coach", text=turn.reply, turn=turn,
                                                               created_at=stamp)]
            while len(self._cache) > HISTORY_CACHE:
                self._cache.pop(next(iter(self._cache)))
        return turn

    def _history(self, session_id: str) -> list[Any]:
        """The session's messages; a cached copy while nobody else has added turns (n_turns says so)."""
        info = self.store.get_session(session_id)
        cached = self._cache.get(session_id)
        if cached is None or len(cached) != 2 * info.n_turns:
            cached = self._cache[session_id] = self.store.history(session_id)
        return cached

    def _open_commitment(self, session_id: str | None) -> Commitment | None:
        rec = self.store.last_open_commitment(exclude_session=session_id)
        return Commitment(what=rec.what, by_when=rec.by_when, measure=rec.measure) if rec else None

    @staticmethod
    def _without_injection(message: str, guards: Any) -> str:
        """The parts of a message that are not an attempt to steer the coach."""
        parts = re.split(r"(?<=[.!?])\s+|\n+", message)
        kept = [p for p in parts if p.strip() and guards.check_input(p).category != "injection"]
        return " ".join(kept) or "I'd like some help with a leadership challenge."

    def openers(self, situation: str, k: int = 3, peer: str = "") -> list[Opener]:
        """Openers for the peer relationship described (with `peer` when the caller knows who), grounded in notes."""
        text = clean_message(situation)
        query = f"{text} peer relationship radical ownership"
        hits = self.searcher.search(query, k=max(self.settings.top_k, 4))
        return draft_openers(text, peer or extract_peer(text), hits, k=k)

    def close(self) -> None:
        if self._store is not None and hasattr(self._store, "close"):
            self._store.close()

