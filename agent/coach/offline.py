"""The offline engine: no key, no network, deterministic; situation, GROW, reflections, one fitting question."""

from __future__ import annotations

import re
from collections.abc import Iterator

from agent.coach import asking
from agent.coach.advice_requests import pushback_kind
from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.grounding import shared_words
from agent.coach.grow import extract_commitment, measure_is_when, next_phase, phase_run, wants_advice
from agent.coach.listening import fear_first, listens
from agent.coach.offers import (
    ASKS_HOW,
    MIN_SHARED,
    STUCK,
    Offer,
    asked_idea,
    grounding_hit,
    idea_for,
    substantive,
)
from agent.coach.openers import draft_openers, extract_peer, is_name
from agent.coach.questions import QuestionBank, load_bank, normalise, opens_any, render, template_of
from agent.coach.quotes import shift_pronouns, trim
from agent.coach.reflect import Reflection, ranked_phrases, reflect, sentence
from agent.coach.situations import FALLBACK, Situation, detect, load_situations, score_text
from agent.coach.topic import plan_gerund, topic_in_past, topic_of
from agent.core.types import Commitment, Opener, Phase

TALK_SHARE = 0.8  # the reply aims at no more words than this share of the message: they talk, the coach listens
MIN_REPLY = 18
_OFFERED = re.compile(r"\b(?:some managers in this spot|some leaders try here|one option is to|here's one option|"
                      r"if it would help, i can share)\b", re.I)
_OPENERS_NOTE = "three openers"
_HOW_TO_START = re.compile(r"\b(?:how\s+(?:do|should|can)\s+i\s+(?:start|open|approach|raise|begin|talk)|"
                           r"what\s+(?:do|should|could)\s+i\s+say)\b", re.I)


class OfflineEngine:
    """A rule-based coach: it reads the situation, tracks GROW, reflects, asks one fresh open question."""

    name = "offline"

    def respond(self, inp: EngineInput) -> EngineOutput:
        return _Turn(inp).run()

    def stream(self, inp: EngineInput) -> Iterator[str | EngineOutput]:
        out = self.respond(inp)
        words = out.reply.split(" ")
        for i, word in enumerate(words):
            yield word + (" " if i < len(words) - 1 else "")
        yield out


def _count(parts: list[str]) -> int:
    return sum(len(p.split()) for p in parts)


class _Turn:
    """The working state of one offline turn."""

    def __init__(self, inp: EngineInput) -> None:
        self.inp = inp
        self.bank: QuestionBank = load_bank()
        self.sits = load_situations()
        self.message = " ".join(inp.message.split())
        users = [h.text for h in inp.history if h.role in ("user", "summary")]
        self.context = " ".join(users[-3:])
        self.client = " ".join([*users, self.message])
        coach = [h.text for h in inp.history if h.role == "coach"]
        self.last_coach = coach[-1] if coach else ""
        self.recent_coach = " ".join(coach[-2:])
        self.all_coach = " ".join(coach)
        self.asked = {normalise(q) for q in inp.asked}
        self.used = {t[2] for q in inp.asked if (t := template_of(q))}
        self.cited: list[str] = []
        self.phase: Phase = inp.phase
        self.kinds: list[str] = []
        n = len(self.message.split())
        self.budget = max(MIN_REPLY, round(TALK_SHARE * n))

    def cite(self, hit_id: str) -> int:
        if hit_id not in self.cited:
            self.cited.append(hit_id)
        return self.cited.index(hit_id) + 1

    def run(self) -> EngineOutput:
        inp, bank = self.inp, self.bank
        name = self._situation()
        sit = self.sit = self.sits[name]
        peer = self._peer(sit)
        advice = inp.advice_permitted or wants_advice(self.message)
        commitment = extract_commitment(self.message)
        phase = self.phase = self._phase(commitment, advice)
        keywords = frozenset(sit.keywords) | frozenset(sit.phrases)
        focus = self.message if substantive(self.message) else f"{self.context} {self.message}"
        parts: list[str] = []
        question: str | None = None
        if phase == "closed" and commitment is not None:
            parts += self._confirm(commitment)
            kind = "next_topic" if commitment.measure or self._measured() else "ask_measure"
            doing = plan_gerund(shift_pronouns(trim(commitment.what, 7, parsed=True) or commitment.what))
            first = [render(bank.template("obstacle"), what=doing)] if doing and commitment.measure and \
                not self._asked_obstacle() else []
            question = self._fresh(first + [bank.template(kind, i) for i in range(2)])
        elif phase == "closed":
            parts.append("That gives you something concrete to watch for.")
            question = self._fresh([bank.template("next_topic", i) for i in range(2)])
        elif commitment is not None and not commitment.by_when:
            parts.append(sentence(f"So you'll {shift_pronouns(commitment.what)}"))
            question = self._fresh([bank.template("ask_by_when", i) for i in range(2)])
        offer = None if question else self._offer(advice, phase, focus)
        if not parts:
            parts += self._reflections(sit, keywords, peer, advice, offer)
            pushed = pushback_kind(self.message)
            if pushed:  # heard first: the resistance is the news of this turn; it takes the second reflection's room
                parts[:] = [bank.template(f"pushback_{pushed}", inp.turn_index), *parts[:0 if offer else 1]]
        if inp.turn_index == 0 and inp.open_commitment is not None and question is None and \
                not _reports_on(self.message, inp.open_commitment):
            question = self._open_commitment(inp.open_commitment)
        openers = self._openers(sit, peer, parts)
        if question is None and offer is not None:
            if advice or ASKS_HOW.search(self.message):
                question = self._place_offer(offer, advice, parts)
            else:  # unasked, an idea is advice however lightly put: ask first, and a yes makes it asked
                parts.append(bank.template("permission"))
        marker = ""
        if question is None and offer is None and not advice and _OPENERS_NOTE not in " ".join(parts) and \
                listens(self.message, self.kinds, phase=phase, turn_index=inp.turn_index, last_coach=self.last_coach,
                        budget=self.budget):
            parts[:], question = self._reflections(sit, keywords, peer, advice, None, reserve=0), ""
        if question is None:
            if advice:
                parts.append(bank.template("no_idea"))
            question, marker = self._ask(name, phase, keywords, peer, parts, focus, advice)
        reply = " ".join(p for p in parts + [question] if p) + marker
        self._cite_openers(openers, reply)
        keep = commitment if commitment and phase in ("will", "closed") else None
        return EngineOutput(reply=reply, questions=[question] if question else [], cited_ids=self.cited, openers=openers,
                            phase=phase, situation=name, commitment=keep)

    def _situation(self) -> str:
        """This turn's situation: what the message shows, but the session's topic unless it clearly moves."""
        det = detect(self.message, self.inp.hits, self.context)
        guess = self.inp.situation if self.inp.situation in self.sits else FALLBACK
        name = det.name if det.name != FALLBACK else guess
        if guess != FALLBACK and name != guess:
            said = score_text(self.message)
            if said.get(name, 0.0) < max(3.0, 1.5 * said.get(guess, 0.0)):
                name = guess
        return name

    def _peer(self, sit: Situation) -> str:
        """Who a peer situation is about: the pipeline's pick, else a name here or earlier, else a role."""
        peer = self.inp.peer or extract_peer(self.message) or (extract_peer(self.context) if sit.peer else "")
        if sit.peer and not is_name(peer):
            named = extract_peer(self.context)
            peer = named if is_name(named) else peer
        return peer

    def _reflections(self, sit: Situation, keywords: frozenset[str], peer: str, advice: bool,
                     offer: Offer | None, reserve: int = 12) -> list[str]:
        """One reflection, two when the talk budget leaves room (an offered idea, then the question, take theirs)."""
        inp, bank = self.inp, self.bank
        room = self.budget - (len(offer.idea.split()) + 2 + reserve if offer else reserve)
        limit = 12 if room >= 16 else 9
        refl = reflect(self.message, bank, sit, turn_index=inp.turn_index, keywords=keywords, peer=peer,
                       limit=limit, client=self.client, coach_said=self.all_coach)
        spare = room - _count([r.text for r in refl])
        if spare >= 4:
            refl = reflect(self.message, bank, sit, turn_index=inp.turn_index, keywords=keywords, peer=peer,
                           limit=limit, spare=spare, client=self.client, coach_said=self.all_coach)
        if advice and refl[0].kind == "acknowledge":
            refl = [Reflection(text=bank.template("advice_ack", inp.turn_index), kind="simple")]
        texts, self.kinds = [r.text for r in refl], [r.kind for r in refl]
        if not (advice or offer):  # a fear they voice is given back whole, before anything else said about it
            texts, self.kinds = fear_first(self.message, texts, self.kinds, room, whole=not reserve)
        return texts

    def _ask(self, name: str, phase: Phase, keywords: frozenset[str], peer: str, parts: list[str], focus: str,
             advice: bool) -> tuple[str, str]:
        """The question for this turn, and the marker of the passage that steered it when that is on topic."""
        # A passage sharing a word with the message steers the question; it is cited only if the exchange
        # (their message and the reply) shares enough with it to be on topic.
        ground = grounding_hit(self.inp.hits, focus, self.sit, said=self.message, min_shared=1)
        phrases = ranked_phrases(self.message, keywords, peer, 9)
        words = asking.their_words_for(phrases, " ".join(parts), keywords, peer)
        if "When you say" in self.last_coach:
            words = None  # not two quoting questions in a row
        question = asking.choose(self.bank, name, "options" if advice else phase,  # asked: draw out their ideas
                                 qvars={"peer": peer or None, "their_words": words,
                                        "topic": topic_of(self.message) or None}, asked=self.asked,
                                 past=topic_in_past(self.message),
                                 used=self.used, focus=focus, ground=ground.chunk.text if ground else "",
                                 budget=max(8, self.budget - _count(parts)))
        said = " ".join([self.message] + parts + [question])
        if ground is not None and not self.cited and len(shared_words(said, ground.chunk.text)) >= MIN_SHARED:
            return question, f" [{self.cite(ground.chunk.id)}]"
        return question, ""

    def _cite_openers(self, openers: list[Opener], reply: str) -> None:
        """The openers' note as the turn's source when nothing else is cited and it is on topic; no marker."""
        if self.cited or not openers or openers[0].citation is None:
            return
        cite = openers[0].citation
        hit = next((h for h in self.inp.hits if (h.chunk.source, h.chunk.chunk) == (cite.source, cite.chunk)),
                   None)
        if hit is not None and len(shared_words(f"{self.message} {reply}", hit.chunk.text)) >= MIN_SHARED:
            self.cite(hit.chunk.id)

    def _phase(self, commitment: Commitment | None, advice: bool) -> Phase:
        inp = self.inp
        if inp.phase == "closed" and commitment is None and self._answering_measure():
            return "closed"
        run = phase_run(inp.asked, inp.phase) if inp.phase != "closed" else 0
        return next_phase(inp.phase, self.message, run=run, commitment=commitment, advice=advice,
                          turn_index=inp.turn_index)

    def _answering_measure(self) -> bool:
        last = self.inp.asked[-1] if self.inp.asked else ""
        return normalise(last) in {normalise(t) for t in self.bank.templates["ask_measure"]}

    def _open_commitment(self, c: Commitment) -> str:
        what = shift_pronouns(trim(c.what, 9, parsed=True) or c.what)
        by_when = f" {c.by_when}" if c.by_when else ""
        options = [render(t, what=what, by_when=by_when) for t in self.bank.templates["open_commitment"]]
        return self._fresh(options) or options[0]

    def _measured(self) -> bool:
        """Whether an earlier message of this session already said how they'll know their plan worked."""
        earlier = [h.text for h in self.inp.history if h.role == "user"]
        return any((c := extract_commitment(t)) is not None and c.measure for t in earlier)

    def _confirm(self, c: Commitment) -> list[str]:
        """Their plan given back briefly: what, by when, and how they'll know."""
        what = trim(c.what, 12, parsed=True) or c.what
        dated = bool(c.by_when) and c.by_when.lower() in what.lower()  # "fix Monday instead": the day is said
        confirm = self.bank.template("confirm_dated" if dated else "confirm", self.inp.turn_index)
        out = [sentence(render(confirm, what=shift_pronouns(what), by_when=shift_pronouns(c.by_when)))]
        if c.measure:
            measure = shift_pronouns(trim(c.measure, 12, parsed=True) or c.measure)
            kind = "confirm_measure" if measure_is_when(self.message) else "confirm_success"
            out.append(sentence(render(self.bank.template(kind), measure=measure)))
        return out

    def _offer(self, advice: bool, phase: Phase, focus: str) -> Offer | None:
        """One idea from a retrieved note, when asked for, or now and then when it fits and there is room."""
        avoid = set(_ideas_in(self.all_coach))
        if advice:
            return asked_idea(self.inp.hits, focus, avoid, self.sit)
        if _OFFERED.search(self.recent_coach):
            return None  # lighter and rarer: not two turns running
        if ASKS_HOW.search(self.message) or STUCK.search(self.message):
            return idea_for(self.inp.hits, focus, avoid, self.sit, max_words=self.budget - 10)
        if phase in ("goal", "options"):
            return idea_for(self.inp.hits, focus, avoid, self.sit, max_words=self.budget - 20)
        return None

    def _place_offer(self, offer: Offer, advice: bool, parts: list[str]) -> str:
        """The idea as an invitation (or, when asked, as one option), cited; returns the question after it."""
        n = str(self.cite(offer.hit.chunk.id))
        kind = "advice" if advice else "invite"
        parts.append(render(self.bank.template(kind, self.inp.turn_index), idea=offer.idea, n=n))
        options = list(self.bank.templates[f"{kind}_question"])
        start = self.inp.turn_index % len(options)
        return self._fresh(options[start:] + options[:start]) or options[start]

    def _asked_obstacle(self) -> bool:
        """Whether this session already asked what could stop a plan (whatever the plan was)."""
        return opens_any(self.bank.template("obstacle"), self.asked)

    def _fresh(self, options: list[str]) -> str | None:
        """The first option not yet asked in this session."""
        return next((o for o in options if normalise(o) not in self.asked), None)

    def _openers(self, sit: Situation, peer: str, parts: list[str]) -> list[Opener]:
        if not (sit.peer and peer):
            return []
        shown = any(h.role == "coach" and _OPENERS_NOTE in h.text and peer in h.text for h in self.inp.history)
        if shown and not _HOW_TO_START.search(self.message) and self.phase not in ("options", "will"):
            return []
        openers = draft_openers(self.message + " " + self.context, peer, self.inp.hits)
        cite = openers[0].citation if openers else None
        room = self.budget - _count(parts) - 12 >= 8
        if cite is not None and _OPENERS_NOTE not in self.last_coach and room:
            hit_id = next(h.chunk.id for h in self.inp.hits
                          if (h.chunk.source, h.chunk.chunk) == (cite.source, cite.chunk))
            n = self.cite(hit_id)
            parts.append(render(self.bank.template("openers_note"), peer=peer, n=str(n)))
        return openers


def _reports_on(message: str, c: Commitment) -> bool:
    """Whether they already say how last session's plan went ('I did the briefing on Monday')."""
    return len(shared_words(message, f"{c.what} {c.by_when}")) >= 2


def _ideas_in(text: str) -> list[str]:
    """Ideas already offered in this session (so none is offered twice)."""
    from agent.coach.offers import load_ideas

    low = text.lower()
    return [i for ideas in load_ideas().notes.values() for i in ideas if i.lower() in low] if low else []



