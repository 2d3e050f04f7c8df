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
# The coach speaking for both of them ("before we go on", "let's"), not the client's "we" left unswapped.
_LETS = re.compile(r"\blet's\b|\blet us\b|\bbefore we go on\b|\b(?:shall|can|could) we\b", re.I)
# The client's "we"/"us"/"our" (their team) must become "you"/"your team"; case-sensitive, so "the US" is not "us".
_FIRST_PLURAL = re.compile(r"\b(?:[Ww]e|us|[Oo]ur|ours|ourselves)\b")
_SAYING = re.compile(r"^(?:You're saying|You are saying|You said|So you're saying)\s+(?:that\s+)?(.+)$", re.I)
_BOUNDARY = frozenset({".", ",", ";", ":", "!", "?", "and", "but", "or", "so", "—", "-", "…"})


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


# What a reflection says the client values or feels: those words must be the client's or implied by them; the
# frame ("right", "matter", "feel") licenses "that's right", not "doing right by people matters to you".
_VALUE = re.compile(r"([^;,.:]+?)\s+(?:really\s+)?matters\s+to\s+you|\bcare\s+about\s+([^;,.:?]+)", re.I)
_FEELING = re.compile(r"\b(?:sounds?|feel|must\s+be)\s+((?:[a-z-]+\s+){0,3}?[a-z-]+)"
                      r"(?:\s+for\s+you)?\s*(?:[.:;,]|$|\s+(?:when|that)\b)", re.I)
_LEAD = re.compile(r"^(?:and|so|but|underneath(?:\s+(?:it|that))?|how\s+much|that|it|like|you\s+fel[lt]|a|an)\s+",
                   re.I)


def attributed(reflection: str, kinds: tuple[str, ...] = ("value", "feeling")) -> list[str]:
    """The values and feelings a reflection attributes to the client ("X matters to you", "That sounds X")."""
    found = [m.group(1) or m.group(2) or "" for m in _VALUE.finditer(reflection)] if "value" in kinds else []
    found += [m.group(1) for m in _FEELING.finditer(reflection)] if "feeling" in kinds else []
    out = []
    for phrase in found:
        phrase = phrase.strip()
        while _LEAD.match(phrase):
            phrase = _LEAD.sub("", phrase, count=1)
        if phrase and "QUOTED" not in phrase:
            out.append(phrase)
    return out


def unfaithful_words(reflection: str, client: str) -> list[str]:
    """Content lemmas of a reflection that neither the client's words nor the implied-meaning lexicon license,
    with the value or feeling it attributes held to the client's words and the lexicon alone (no frame)."""
    from agent.coach.implied import unlicensed

    extra = unlicensed(reflection.replace("QUOTED", " "), client)
    for phrase in attributed(reflection, ("feeling",)):
        extra += [w for w in unlicensed(phrase, client, frame_ok=False) if w not in extra]
    # A value is theirs only if they said it of themselves, not of the person they talk about.
    for phrase in attributed(reflection, ("value",)):
        extra += [w for w in unlicensed(phrase, client, frame_ok=False, own=True) if w not in extra]
    return extra


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
        asked = questions(e.turn.reply, keep_quotes=True)
        if not asked:
            continue
        total += 1
        score = similarity(asked[-1], _last_message(msgs))
        if score < floor:
            bad.append(f"{score:.2f} {asked[-1]}")
    return share(total - len(bad), total, "questions relevant", bad)


# "you was", "you am": not after "to", "for" and the like ("what matters to you is ...").
_AGREES = re.compile(r"(?<!\bto )(?<!\bfor )(?<!\bof )(?<!\babout )(?<!\bwith )\byou\s+['‘]?"
                     r"(?:was|wasn't|am|is|isn't|has|hasn't|does|doesn't)\b", re.I)


def garbled(reply: str, client: str) -> list[str]:
    """Quoted fragments that are not whole phrases, restatements that stop mid-phrase, fragments framed as
    statements, and first-person words left unswapped."""
    from agent.coach.nlp import half_said, is_clause, parse, to_you, whole

    found = []
    for m in _QUOTE.finditer(reply):
        frag = (m.group(1) or m.group(2) or "").strip()
        if len(frag.split()) >= 2 and not whole(frag):
            found.append(f"cut quote '{frag}'")
    for m in _AGREES.finditer(reply):  # "You 'Was a joiner ...'": the speaker's dropped "I" left its verb
        found.append(f"verb does not agree with you: {m.group(0)}")
    plain = _QUOTE.sub(" QUOTED ", reply)
    them = parse(to_you(client))
    theirs = [x.lower_ for x in them]
    for r in reflections_in(plain):
        low = r.lower().replace("’", "'")
        if _FIRST.search(_FRAME_I.sub(" ", low)) or _FIRST_PLURAL.search(_LETS.sub(" ", r)):
            found.append(f"pronoun not swapped: {r}")
        m = _SAYING.match(r)
        if m and "QUOTED" not in r and not is_clause(m.group(1)):
            found.append(f"fragment framed as a statement: {r}")
        # Each part on its own: "On one hand, X; on the other, Y" can cut Y while X, the longer run, is whole.
        for part in (p for p in re.split(r";\s*", r) if p.strip()):
            mine = [x.lower_ for x in parse(part)]
            span = _longest_common(theirs, mine)
            if span is None or span[1] - span[0] < 3:
                continue
            a, b, after = span
            stops = after >= len(mine) or mine[after] in _BOUNDARY
            why = half_said(them, a, b) if stops else ""
            if why:
                found.append(f"cut clause ({why}): {r}")
                break
    return found


def _longest_common(a: list[str], b: list[str]) -> tuple[int, int, int] | None:
    """The longest run of tokens of `a` also in `b`: (start, end) in `a` and where it ends in `b`; punctuation
    inside the run ("one-to-ones") keeps it going, but the run neither starts nor ends on it."""
    best, best_at = 0, None
    prev = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        cur = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                cur[j] = cur_len = prev[j - 1] + 1
                if cur_len > best and _wordy(a[i - 1]) and _wordy(a[i - cur_len]):
                    best, best_at = cur_len, (i - cur_len, i, j)
        prev = cur
    return best_at


def _wordy(token: str) -> bool:
    return token.isalnum() or "'" in token


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
