"""Routing a message from the classifier's reading, with the keyword rules as a backstop."""

from __future__ import annotations

from agent.core.types import Safety
from agent.safety.detector import Prediction

# The rules' precision on the training files they were never tuned on (scripts/train_safety_classifier.py
# --rules): injection 0.99, off-topic 0.97, legal 0.95, crisis 0.93, medical 0.84, harassment 0.80.
# So an injection hit stands alone; a crisis hit the classifier doubts becomes a check-in, not a crisis reply;
# a referral hit counts only when the classifier gives that class at least RULE_REFER_FLOOR.
RULE_CRISIS_FLOOR = 0.10  # classifier crisis probability below this turns a rule crisis hit into a check-in
RULE_REFER_FLOOR = 0.15
_ACTIONS = {"harassment": "refer", "discrimination": "refer", "legal": "refer", "medical": "refer",
            "injection": "refuse_and_continue", "off_topic": "redirect"}


def _note(pred: Prediction) -> str:
    top = sorted(pred.probs.items(), key=lambda kv: -kv[1])[:2]
    return "classifier " + ", ".join(f"{k} {v:.2f}" for k, v in top) + f" (crisis {pred.crisis:.2f}, {pred.lang})"


def _crisis_group(pred: Prediction, rules: Safety) -> str:
    """The reply group: the rules' own group when they saw the crisis too (more specific), else self or danger."""
    if rules.category == "crisis" and "/" in rules.reason:
        group = rules.reason.split("/", 1)[1].split(":", 1)[0]
        if group.startswith("self_harm") and pred.who == "others":
            return "danger"  # "my colleague wants to end it all": the rules' words are about self-harm, not whose
        if group == "self_harm" and pred.lang != "en":
            return f"self_harm_{pred.lang}"
        return group
    if pred.who == "others":
        return "danger"
    return "self_harm" if pred.lang == "en" else f"self_harm_{pred.lang}"


def route(rules: Safety, pred: Prediction) -> Safety:
    """One Safety decision from the rules' verdict on a message and the classifier's reading of it."""
    note = _note(pred)
    label = pred.label
    if rules.category == "injection":
        return rules
    if label in ("crisis_self", "crisis_others") or (rules.category == "crisis" and pred.crisis >= RULE_CRISIS_FLOOR):
        group = _crisis_group(pred, rules)
        why = f"; rules: {rules.reason}" if rules.category == "crisis" else ""
        return Safety(category="crisis", action="crisis_resources", reason=f"crisis/{group}: {note}{why}")
    if rules.category == "crisis":  # the classifier doubts the rules: ask directly rather than guess
        group = "danger" if pred.who == "others" else "self_harm"
        return Safety(category="ok", action="check_in", reason=f"check_in/{group}: rules said crisis, {note}")
    if label in _ACTIONS:
        return Safety(category=label, action=_ACTIONS[label], reason=f"{label}/classifier: {note}")  # type: ignore[arg-type]
    if rules.category in _ACTIONS and pred.probs.get(rules.category, 0.0) >= RULE_REFER_FLOOR:
        return rules
    if label == "check_in":
        group = "danger" if pred.who == "others" else "self_harm"
        return Safety(category="ok", action="check_in", reason=f"check_in/{group}: {note}")
    return Safety()  # ordinary: the same empty Safety the rules give, so callers and logs see no difference
