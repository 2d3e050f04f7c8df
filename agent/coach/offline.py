"""The offline engine: no key, no network, deterministic; situation, GROW, question bank, reflections."""

from __future__ import annotations

import re
from typing import Iterator

from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.grounding import grounding
from agent.coach.grow import extract_commitment, next_phase, phase_run, wants_advice
from agent.coach.questions import QuestionBank, load_bank, normalise, render, template_of
from agent.coach.reflect import feeling_in, key_phrases, reflect, shift_pronouns, their_words
from agent.coach.situations import FALLBACK, Situation, detect, load_situations
from agent.openers import draft_openers, extract_peer, is_name
from agent.types import Commitment, Opener, Phase

_STUCK = re.compile(r"\b(?:i\s+don'?t\s+know|no\s+idea|not\s+sure|i'?m\s+stuck|can'?t\s+think)\b", re.I)
_ORDER: tuple[Phase, ...] = ("goal", "reality", "options", "will")


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


class _Turn:
    """The working state of one offline turn."""

    def __init__(self, inp: EngineInput) -> None:
        self.inp = inp
        self.bank: QuestionBank = load_bank()
        self.sits = load_situations()
        self.message = " ".join(inp.message.split())
        users = [h.text for h in inp.history if h.role in ("user", "summary")]
        self.context = " ".join(users[-3:])
        self.last_coach = next((h.text for h in reversed(inp.history) if h.role == "coach"), "")
        self.asked = {normalise(q) for q in inp.asked}
        self.used = {t[2] for q in inp.asked if (t := template_of(q))}
        self.cited: list[str] = []
        self.phase: Phase = inp.phase

    def run(self) -> EngineOutput:
        inp, bank = self.inp, self.bank
        det = detect(self.message, inp.hits, self.context)
        guess = inp.situation if inp.situation in self.sits else FALLBACK
        name = det.name if det.name != FALLBACK else guess
        sit = self.sits[name]
        peer = inp.peer or extract_peer(self.message) or (extract_peer(self.context) if sit.peer else "")
        if sit.peer and not is_name(peer):
            named = extract_peer(self.context)
            peer = named if is_name(named) else peer
        advice = inp.advice_permitted or wants_advice(self.message)
        commitment = extract_commitment(self.message)
        phase = self.phase = self._phase(commitment, advice)
        keywords = set(sit.keywords) | {p for s in self.sits.values() for p in s.phrases}
        phrases = key_phrases(self.message, keywords, 3)
        swap = len(phrases) > 1 and feeling_in(phrases[0]) and not feeling_in(phrases[1])
        if swap and feeling_in(self.message):
            # Give back what happened and name the feeling, rather than echo the feeling word.
            phrases[0], phrases[1] = phrases[1], phrases[0]
        reflection = reflect(self.message, bank, feeling=sit.feeling, meaning=sit.meaning,
                             turn_index=inp.turn_index, keywords=keywords,
                             phrase=phrases[0] if phrases else "")
        if advice and reflection.kind == "acknowledge":
            reflection = reflection.model_copy(update={"text": bank.template("advice_ack", inp.turn_index)})
        parts = [reflection.text] if not (phase == "closed" and commitment) else []
        second = their_words(phrases[1])[0] if len(phrases) > 1 else None
        qvars = {"peer": peer or None, "their_words": second}

        if inp.turn_index == 0 and inp.open_commitment is not None:
            question = self._open_commitment(inp.open_commitment)
        elif phase == "closed" and commitment is not None:
            parts += self._confirm(commitment)
            kind = "next_topic" if commitment.measure else "ask_measure"
            question = self._fresh([bank.template(kind, i) for i in range(2)])
        elif phase == "closed":
            parts.append("That gives you something concrete to watch for.")
            question = self._fresh([bank.template("next_topic", i) for i in range(2)])
        elif commitment is not None and not commitment.by_when:
            parts.append(_sentence(f"So you'll {shift_pronouns(commitment.what)}"))
            question = self._fresh([bank.template("ask_by_when", i) for i in range(2)])
        else:
            question = None
        openers = self._openers(sit, peer, parts)
        if question is None:
            if not (openers and self.cited):
                parts += self._offer(sit, advice, phase)
            question = self._question(name, phase, qvars)
        reply = " ".join(p for p in parts + [question] if p)
        keep = commitment if commitment and phase in ("will", "closed") else None
        return EngineOutput(reply=reply, questions=[question], cited_ids=self.cited, openers=openers,
                            phase=phase, situation=name, commitment=keep)

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
        what = shift_pronouns(c.what)
        by_when = f" {c.by_when}" if c.by_when else ""
        options = [render(t, what=what, by_when=by_when) for t in self.bank.templates["open_commitment"]]
        return self._fresh(options) or options[0]

    def _confirm(self, c: Commitment) -> list[str]:
        confirm = self.bank.template("confirm", self.inp.turn_index)
        out = [_sentence(render(confirm, what=shift_pronouns(c.what), by_when=c.by_when))]
        if c.measure:
            measure = shift_pronouns(c.measure)
            out.append(_sentence(render(self.bank.template("confirm_measure"), measure=measure)))
        return out

    def _offer(self, sit: Situation, advice: bool, phase: Phase) -> list[str]:
        """A light reframe or, when asked, a short suggestion, grounded in a retrieved passage."""
        text = self.message if len(self.message.split()) >= 8 else f"{self.context} {self.message}"
        found = grounding(self.inp.hits, text, sit, min_relevance=2.0 if advice else 4.0)
        recently_cited = "[1]" in self.last_coach or "[2]" in self.last_coach
        if found is None:
            if advice:
                return ["None of your notes speaks to this directly, so let's start from what you know."]
            if phase == "options" and _STUCK.search(self.message) and "if you'd find" not in self.last_coach:
                return [self.bank.template("permission")]
            return []
        if not advice and (recently_cited or phase == "will"):
            return []
        hit, idea = found
        self.cited.append(hit.chunk.id)
        kind = "advice" if advice else "reframe"
        tpl = self.bank.template(kind, self.inp.turn_index)
        return [render(tpl, title=hit.chunk.title, n=str(len(self.cited)), idea=f"“{idea}”")]

    def _question(self, situation: str, phase: Phase, qvars: dict[str, str | None]) -> str:
        """A fresh open question: this situation and phase first, then general, then neighbouring phases."""
        later = [p for p in _ORDER if p != phase]
        order = [(situation, phase), (FALLBACK, phase)] + [(situation, p) for p in later] + \
                [(FALLBACK, p) for p in later] + [(s, p) for s in self.bank.questions for p in _ORDER]
        known = {k for k, v in qvars.items() if v}
        for sit, ph in order:
            for tpl in self.bank.questions.get(sit, {}).get(ph, []):
                if tpl in self.used or not _vars(tpl) <= known:
                    continue
                text = render(tpl, **{k: v for k, v in qvars.items() if v})
                if normalise(text) not in self.asked:
                    return text
        return f"Looking at where we are now, turn {self.inp.turn_index + 1}, what stands out to you most?"

    def _fresh(self, options: list[str]) -> str | None:
        """The first option not yet asked in this session."""
        return next((o for o in options if normalise(o) not in self.asked), None)

    def _openers(self, sit: Situation, peer: str, parts: list[str]) -> list[Opener]:
        if not (sit.peer and peer):
            return []
        shown = any(h.role == "coach" and "sketched" in h.text and peer in h.text for h in self.inp.history)
        asked_how = re.search(r"\b(?:how\s+(?:do|should|can)\s+i\s+(?:start|open|approach|raise|begin|talk)|"
                              r"what\s+(?:do|should|could)\s+i\s+say)\b", self.message, re.I)
        if shown and not asked_how and self.phase not in ("options", "will"):
            return []
        openers = draft_openers(self.message + " " + self.context, peer, self.inp.hits)
        cite = openers[0].citation if openers else None
        if cite is not None and "sketched" not in self.last_coach:
            hit_id = next(h.chunk.id for h in self.inp.hits
                          if (h.chunk.source, h.chunk.chunk) == (cite.source, cite.chunk))
            if hit_id not in self.cited:
                self.cited.append(hit_id)
            n = self.cited.index(hit_id) + 1
            parts.append(f"I've sketched three ways you might open a conversation with {peer}, drawing on "
                         f"\"{cite.title}\" [{n}].")
        return openers


def _vars(template: str) -> set[str]:
    return set(re.findall(r"\{([a-z_]+)\}", template))


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."
