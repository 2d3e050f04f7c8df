"""Guardrails on the way in: crisis, referral, injection and off-topic routing, and the replies that go with them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agent.core.types import Safety
from agent.safety.leaks import check_output, instruction_hit, make_canary, neutralize
from agent.safety.rules import Match, load_rules
from agent.safety.text import encoded_payloads, fold

if TYPE_CHECKING:
    from agent.safety.semantic import SemanticHit

__all__ = ["after_check_in", "check_document", "check_in_answer", "check_input", "check_output", "check_rules", "make_canary", "neutralize", "safe_reply"]

_REASON_GROUP = re.compile(r"^[a-z_]+/([a-z_]+)")
# a crisis group -> its reply; the rest: self. "danger": the classifier read someone else at risk, without saying how
_WHO = {"someone_else": "someone_else", "harm_to_others": "others", "danger": "danger"}
SHORT_ANSWER_WORDS = 8  # "maybe, sometimes" is an answer; "Maybe he is frustrated about ..." is the next topic


def _match(text: str) -> Match | None:
    rules = load_rules()
    return rules.first_match(rules.normalise(text), fold(text))


def _safety(m: Match, note: str = "") -> Safety:
    span = m.span if len(m.span) <= 80 else m.span[:77] + "..."
    return Safety(category=m.category, action=m.action, reason=f"{m.category}/{m.group}: {note}matched '{span}'")


def check_input(message: str) -> Safety:
    """Decide what to do with a user message: the trained classifier, with the keyword rules as a backstop."""
    safety = check_rules(message)
    if not message or not message.strip():
        return safety
    from agent.safety.detector import classify  # numpy + the E5 encoder: loaded on first use, once

    pred = classify(message)
    if pred is not None:
        from agent.safety.route import route

        return route(safety, pred)
    return _rules_and_banks(message, safety)


def _rules_and_banks(message: str, safety: Safety) -> Safety:
    """The older path when the classifier cannot load: keyword rules, then the MiniLM crisis banks."""
    if safety.category == "crisis":
        return safety
    from agent.safety.semantic import semantic_assess

    # Crisis beats every other category, so a referral or redirect is checked too ("he screams at me, I'll ...").
    hit, near = semantic_assess(message, ruled_out=_not_a_threat)
    if hit is not None:
        return Safety(category="crisis", action="crisis_resources", reason=_meaning("crisis", hit))
    if near is not None and safety.action == "coach":
        # Close to a crisis statement but not over the line: ask directly rather than guess either way.
        return Safety(category="ok", action="check_in", reason=_meaning("check_in", near))
    return safety


def _meaning(kind: str, hit: SemanticHit) -> str:
    unit = hit.text if len(hit.text) <= 80 else hit.text[:77] + "..."
    return (f"{kind}/{hit.group}: meaning: '{unit}' is like '{hit.exemplar}' "
            f"({hit.crisis_sim:.2f}, contrast {hit.contrast_sim:.2f})")


def check_in_answer(message: str) -> str:
    """How a reply to a safety check-in reads: "affirm" (crisis reply next), "deny" (coach on) or "unclear"."""
    rules = load_rules()
    norm = rules.normalise(message)
    short = len(norm.split()) <= SHORT_ANSWER_WORDS
    if _hit(rules.answer_yes, norm) or (short and _hit(rules.short_yes, norm)):
        return "affirm"
    if _hit(rules.answer_no, norm) or (short and _hit(rules.short_no, norm)):
        return "deny"
    return "unclear"


def _hit(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.search(text) is not None


def after_check_in(asked: Safety, message: str) -> Safety:
    """The safety of an answer to a check-in: a yes (or any crisis reading) gets the crisis reply for that group."""
    safety = check_input(message)
    if safety.category == "crisis":
        return safety
    answer = check_in_answer(message)
    if answer == "affirm":
        group = _group(asked) or "self_harm"
        return Safety(category="crisis", action="crisis_resources",
                      reason=f"crisis/{group}: answered yes to the safety check-in ('{message.strip()[:60]}')")
    if answer == "deny" and safety.action == "check_in":
        return Safety(reason="check_in: answered no; coaching resumes")
    if safety.action == "check_in":  # one direct question per session: an unclear answer is not asked again
        return Safety(reason="check_in: answer unclear, not asked twice; coaching resumes")
    return safety


def _not_a_threat(sentence: str) -> frozenset[str]:
    """{"harm_to_others"} when the rules' own idiom list explains the sentence (negated intent, "he'll kill me")."""
    rules = load_rules()
    crisis = next(c for c in rules.categories if c.name == "crisis")
    group = next(g for g in crisis.groups if g.name == "harm_to_others")
    if group.exclude is not None and group.exclude.search(rules.normalise(sentence)):
        return frozenset({"harm_to_others"})
    return frozenset()


def check_rules(message: str) -> Safety:
    """The keyword rules alone (deterministic, microseconds): the first rule category that matches wins."""
    if not message or not message.strip():
        return Safety()
    m = _match(message)
    if m is not None and m.category != "off_topic":
        return _safety(m)
    for payload in encoded_payloads(message):
        hidden = _match(payload)
        if hidden is not None and hidden.category == "crisis":
            return _safety(hidden, "encoded text ")
        if hidden is not None:
            return Safety(category="injection", action="refuse_and_continue",
                          reason=f"injection/encoded: base64 text that reads as {hidden.category}")
    return _safety(m) if m is not None else Safety()


def check_document(text: str) -> Safety:
    """Whether retrieved or uploaded text carries instructions aimed at the coach (injection) or not (ok)."""
    hit = instruction_hit(text)
    if hit is None:
        for payload in encoded_payloads(text):
            if instruction_hit(payload) is not None:
                hit = "encoded instruction"
                break
    if hit is None:
        return Safety()
    return Safety(category="injection", action="refuse_and_continue", reason=f"injection/document: matched '{hit[:80]}'")


def _group(safety: Safety) -> str:
    m = _REASON_GROUP.match(safety.reason)
    return m.group(1) if m else ""


def safe_reply(safety: Safety, message: str = "") -> str:
    """The reply for a message the coach must not coach on (crisis, referral, redirect, refusal, repaired output)."""
    replies = load_rules().spec.replies
    group = _group(safety)
    who = _WHO.get(group, "self")  # crisis and check-in replies are keyed self / others / someone_else
    if safety.action == "check_in":
        return replies.check_in[who]
    if safety.category == "crisis":
        reply = replies.crisis[who]
        if who != "self":
            return reply
        language = group.rsplit("_", 1)[-1] if group.startswith("self_harm_") else ""
        if language in replies.crisis_language:
            reply = f"{replies.crisis_language[language]}\n\n{reply}"
        return reply
    if safety.action == "refer" and safety.category in replies.refer:
        return replies.refer[safety.category]
    if safety.category == "injection":
        return replies.injection
    if safety.category == "off_topic":
        topic = group.split("_")[0]
        opening = replies.redirect.get(topic, replies.redirect["default"])
        return f"{opening} {replies.redirect['follow_up']}"
    if safety.category == "output_fixed" or safety.action == "repaired":
        return replies.repaired
    return ""
