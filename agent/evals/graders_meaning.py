"""Graders that judge meaning: faithful reflections, relevant questions, whole quotes, pushback and advice heard."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from agent.evals.grade import Grade, not_applicable, share
from agent.evals.graders import advice_in, reflections_in
from agent.evals.textutil import content_words, jaccard, questions
from agent.evals.transcript import Exchange, Transcript

# Calibrated by evals/coaching/conversations/calibrate_relevance.py: relevant questions vs the same
# questions shuffled onto other conversations' messages; the floor sits between the two distributions.
RELEVANCE_FLOOR = 0.19
SHORT = 8  # a message under this many words is read with the client's message before it ("I don't know.")
_QUOTE = re.compile(r"[\"“]([^\"”]{2,200})[\"”]|(?<![A-Za-z])[‘']([^'’]{2,200}?)[’'](?![A-Za-z])")
_FRAME_I = re.compile(r"\bi\s+(?:hear|imagine|wonder|notice|sense|guess|get|can|could|might|want\s+to\s+check|"
                      r"'m\s+hearing|am\s+hearing|may)\b|\blet\s+me\b|\bwhat\s+i\b")
_FIRST = re.compile(r"\b(?:my|me|myself|mine|i'm|i've)\b|\bi\b")
_ACK = re.compile(r"\b(?:fair|fair enough|that's ok|that's okay|that's fine|no need to know|not knowing|"
                  r"let's come at|let me come at|another way|different angle|different way|you're right|"
                  r"point taken|thanks for saying|that's useful to hear|good to know|let's leave|let's drop|"
                  r"okay,? let's|sure|fine|understood|heard|i hear you|that didn't land|that missed|"
                  r"you don't have to know|you'd rather|straight to|you want something practical|"
                  r"you want (?:a|an|some) (?:idea|option|advice|answer))\b", re.I)
_CITE = re.compile(r"\[\d+\]")


def _sessions(t: Transcript) -> list[tuple[Exchange, list[str]]]:
    """Each coaching exchange with every client message of its session up to and including it."""
    said: dict[str, list[str]] = {}
    out = []
    for e in t.exchanges:
        msgs = said.setdefault(e.turn.session, [])
        msgs.append(e.user)
        if e.coaching:
            out.append((e, list(msgs)))
    return out


def unfaithful_words(reflection: str, client: str) -> list[str]:
    """Content lemmas of a reflection that neither the client's words nor the implied-meaning lexicon license."""
    from agent.coach.implied import unlicensed

    return unlicensed(reflection.replace("QUOTED", " "), client)


def reflection_fidelity(t: Transcript) -> Grade:
    """Share of reflections whose content words all come from the client or the licensed lexicon."""
    total, bad = 0, []
    for e, msgs in _sessions(t):
        client = " ".join(msgs)
        for r in reflections_in(e.turn.reply):
            total += 1
            extra = unfaithful_words(r, client)
            said_not = [w for w in e.not_said if w.lower() in r.lower() and w.lower() not in client.lower()]
            if extra or said_not:
                bad.append(f"{r} [{', '.join(extra + said_not)}]")
    return share(total - len(bad), total, "reflections faithful", bad)


@lru_cache(maxsize=1)
def _embedder() -> Any:
    from agent.index.embeddings import MiniLMEmbedder

    return MiniLMEmbedder()


def similarity(a: str, b: str) -> float:
    """Cosine of two texts under the project's MiniLM embedder."""
    import numpy as np

    v = _embedder().embed([a, b])
    return float(np.dot(v[0], v[1]))


def _last_message(msgs: list[str]) -> str:
    last = msgs[-1]
    return f"{msgs[-2]} {last}" if len(last.split()) < SHORT and len(msgs) > 1 else last


def question_relevance(t: Transcript, floor: float = RELEVANCE_FLOOR) -> Grade:
    """Share of questions whose MiniLM similarity to the last client message is at least the calibrated floor."""
    total, bad = 0, []
    for e, msgs in _sessions(t):
        asked = questions(e.turn.reply)
        if not asked:
            continue
        total += 1
        score = similarity(asked[-1], _last_message(msgs))
        if score < floor:
            bad.append(f"{score:.2f} {asked[-1]}")
    return share(total - len(bad), total, "questions relevant", bad)


def garbled(reply: str, client: str) -> list[str]:
    """Quoted fragments that are not whole phrases, restatements cut mid-clause, and unswapped pronouns."""
    from agent.coach.nlp import cuts_clause, parse, to_you, whole

    found = []
    for m in _QUOTE.finditer(reply):
        frag = (m.group(1) or m.group(2) or "").strip()
        if len(frag.split()) >= 2 and not whole(frag):
            found.append(f"cut quote '{frag}'")
    plain = _QUOTE.sub(" ", reply)
    for r in reflections_in(plain):
        low = r.lower().replace("’", "'")
        if _FIRST.search(_FRAME_I.sub(" ", low)):
            found.append(f"pronoun not swapped: {r}")
        them = parse(to_you(client))
        toks = [x.lower_ for x in them]
        mine = [x.lower_ for x in parse(r)]
        span = _longest_common(toks, mine)
        if span and span[1] - span[0] >= 3 and cuts_clause(them, *span):
            found.append(f"cut clause: {r}")
    return found


def _longest_common(a: list[str], b: list[str]) -> tuple[int, int] | None:
    """The longest run of tokens of `a` that also appears in `b`, as (start, end) in `a`."""
    best, best_at = 0, None
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1] and a[i - 1].isalnum() or (a[i - 1] == b[j - 1] and "'" in a[i - 1]):
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best, best_at = cur[j], (i - cur[j], i)
        prev = cur
    return best_at


def garbled_quotes(t: Transcript) -> Grade:
    """Number of garbled quotes and restatements across the coaching turns (lower is better; 0 is the bar)."""
    bad = [f"{g}" for e, msgs in _sessions(t) for g in garbled(e.turn.reply, msgs[-1])]
    turns = len(t.coaching_exchanges)
    if not turns:
        return not_applicable("no coaching turns")
    return Grade(score=float(len(bad)), detail=f"{len(bad)} garbled in {turns} turns" +
                 (f" (e.g. {'; '.join(b[:90] for b in bad[:3])})" if bad else ""))


def _previous(t: Transcript, e: Exchange) -> str:
    i = t.exchanges.index(e)
    return t.exchanges[i - 1].turn.reply if i else ""


def pushback_handled(t: Transcript) -> Grade:
    """Share of pushback turns the coach heard: it acknowledges, and does not ask its last question again."""
    total, bad = 0, []
    for e in t.coaching_exchanges:
        if "pushback" not in e.tags:
            continue
        total += 1
        before = questions(_previous(t, e))
        now = questions(e.turn.reply)
        repeat = bool(before and now and jaccard(content_words(before[-1]), content_words(now[-1])) >= 0.5)
        if not _ACK.search(e.turn.reply) or repeat or not now and "advice_request" not in e.tags:
            bad.append(e.turn.reply)
    return share(total - len(bad), total, "pushbacks heard", bad)


def advice_request_handled(t: Transcript) -> Grade:
    """Share of explicit advice requests answered with brief advice, a cited source, then a question back."""
    total, bad = 0, []
    for e in t.coaching_exchanges:
        if "advice_request" not in e.tags:
            continue
        total += 1
        reply = e.turn.reply
        advised = bool(advice_in(reply)) or re.search(r"\b(?:one option|some (?:leaders|managers)|an idea)\b",
                                                        reply, re.I)
        cited = bool(e.turn.citations) and bool(_CITE.search(reply))
        hands_back = bool(questions(reply)) and reply.rstrip().endswith("?")
        brief = len(reply.split()) <= 90
        if not (advised and cited and hands_back and brief):
            bad.append(f"advice={bool(advised)} cited={cited} question={hands_back} brief={brief}: {reply}")
    return share(total - len(bad), total, "advice requests answered", bad)


def phase_reasons(t: Transcript) -> Grade:
    """Share of turns whose phase has a reason: still goal before any goal; a close only after a named action."""
    total, bad, goal, action = 0, [], False, False
    for e in t.coaching_exchanges:
        goal = goal or "goal_stated" in e.tags or "action_named" in e.tags
        action = action or "action_named" in e.tags
        if not any(tag in e.tags for tag in ("goal_stated", "no_goal_yet", "action_named")) and not goal:
            continue
        total += 1
        if not goal and e.turn.phase != "goal":
            bad.append(f"left goal with no goal ({e.turn.phase}): {e.user}")
        elif (e.turn.phase == "closed" or e.turn.commitment is not None) and not action:
            bad.append(f"closed with no action named: {e.user}")
    return share(total - len(bad), total, "phases with a reason", bad)
