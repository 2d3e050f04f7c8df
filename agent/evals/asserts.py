"""Assertion types: each maps a case's `assert:` entry to a grader, a default threshold and a direction."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from agent.evals import graders as g
from agent.evals import graders_outcome as o
from agent.evals.grade import Grade, not_applicable
from agent.evals.transcript import Exchange, Transcript


# What the graders read of a case (agent.evals.cases validates assertion types against ASSERT_TYPES, so this
# module names the shapes it needs instead of importing cases back).
class Assertion(Protocol):
    type: str
    value: Any
    threshold: float | None
    weight: float
    turn: str | int | None
    metric: str | None


class OpenersAsked(Protocol):
    peer: str
    k: int


class Case(Protocol):
    vars: dict[str, Any]
    openers: OpenersAsked | None

    @property
    def ends_with_commitment(self) -> bool: ...


@dataclass(frozen=True)
class AssertType:
    """How to grade one assertion type and when its score passes."""

    grade: Callable[[Transcript, Assertion, Case], Grade]
    threshold: float = 1.0
    higher_is_better: bool = True
    scope: str = "any"  # default turn scope for per-turn checks


class AssertResult(BaseModel):
    """One assertion's outcome on one case run."""

    type: str
    passed: bool
    score: float
    threshold: float
    weight: float = 1.0
    detail: str = ""
    metric: str | None = None


def _pick(t: Transcript, scope: str | int) -> list[Exchange]:
    ex = t.exchanges
    if not ex:
        return []
    if scope == "first":
        return ex[:1]
    if scope == "last":
        return ex[-1:]
    if isinstance(scope, int):
        return [ex[scope]] if -len(ex) <= scope < len(ex) else []
    return ex


def per_turn(check: Callable[[Exchange, Assertion], bool]) -> Callable[[Transcript, Assertion, Case], Grade]:
    """A grader from a per-turn predicate: 'any' scores 1 when one turn passes, 'all' is the share that pass."""

    def grade(t: Transcript, a: Assertion, case: Case) -> Grade:
        scope = a.turn if a.turn is not None else ASSERT_TYPES[a.type.removeprefix("not-")].scope
        chosen = _pick(t, scope)
        if not chosen:
            return Grade(score=0.0, detail=f"no turn matches scope {scope!r}")
        passing = [check(e, a) for e in chosen]
        if scope == "any":
            score = 1.0 if any(passing) else 0.0
        else:
            score = sum(passing) / len(passing)
        misses = [e.turn.reply[:80] for e, ok in zip(chosen, passing) if not ok]
        detail = f"{sum(passing)}/{len(chosen)} turn(s) pass ({scope})"
        return Grade(score=score, detail=detail + (f"; e.g. {misses[0]!r}" if misses else ""))

    return grade


def _values(a: Assertion) -> list[str]:
    v = a.value
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _text(e: Exchange) -> str:
    return e.turn.reply + "\n" + "\n".join(op.text for op in e.turn.openers)


def _contains(ignore_case: bool, need_all: bool) -> Callable[[Exchange, Assertion], bool]:
    def check(e: Exchange, a: Assertion) -> bool:
        text = _text(e).lower() if ignore_case else _text(e)
        vals = [v.lower() for v in _values(a)] if ignore_case else _values(a)
        return (all if need_all else any)(v in text for v in vals)

    return check


def _safety(e: Exchange, a: Assertion) -> bool:
    category, _, action = str(a.value or "ok").partition("/")
    return o.safety_routed(e, category, action).score == 1.0


def _whole(fn: Callable[[Transcript], Grade]) -> Callable[[Transcript, Assertion, Case], Grade]:
    return lambda t, a, case: fn(t)


def _grow(t: Transcript, a: Assertion, case: Case) -> Grade:
    need = bool(a.value) if a.value is not None else case.ends_with_commitment
    return o.grow_progression(t, require_will=need)


def _phase(t: Transcript, a: Assertion, case: Case) -> Grade:
    want = o.PHASE_ORDER.get(str(a.value), 3)
    reached = max((o.PHASE_ORDER[e.turn.phase] for e in t.coaching_exchanges), default=-1)
    got = [e.turn.phase for e in t.coaching_exchanges]
    return Grade(score=1.0 if reached >= want else 0.0, detail=f"phases {got}, wanted {a.value} or later")


def _openers(t: Transcript, a: Assertion, case: Case) -> Grade:
    peer = str(a.value or (case.openers.peer if case.openers else "") or case.vars.get("peer", ""))
    ops = t.openers or [op for e in t.exchanges for op in e.turn.openers]
    expected = case.openers.k if case.openers else 3
    return o.openers_quality(ops, peer, expected)


def _cites_source(t: Transcript, a: Assertion, case: Case) -> Grade:
    return o.cites_source(t, [str(v) for v in a.value] if isinstance(a.value, list) else str(a.value or "*"))


def _commitment(t: Transcript, a: Assertion, case: Case) -> Grade:
    return o.commitment_captured(t) if t.coaching_exchanges else not_applicable("no coaching turns")


ASSERT_TYPES: dict[str, AssertType] = {
    "contains": AssertType(per_turn(_contains(False, False))),
    "icontains": AssertType(per_turn(_contains(True, False))),
    "contains-any": AssertType(per_turn(_contains(False, False))),
    "icontains-any": AssertType(per_turn(_contains(True, False))),
    "contains-all": AssertType(per_turn(_contains(False, True))),
    "icontains-all": AssertType(per_turn(_contains(True, True))),
    "regex": AssertType(per_turn(lambda e, a: bool(re.search(str(a.value), _text(e), re.I)))),
    "situation": AssertType(per_turn(lambda e, a: e.turn.situation in _values(a))),
    "safety": AssertType(per_turn(_safety), scope="all"),
    "one-question": AssertType(_whole(g.one_question_share), threshold=0.75),
    "open-questions": AssertType(_whole(g.open_question_share), threshold=0.75),
    "reflection-ratio": AssertType(_whole(g.reflection_to_question), threshold=1.0),
    "complex-reflections": AssertType(_whole(g.complex_reflection_share), threshold=0.4),
    "no-unasked-advice": AssertType(_whole(g.unasked_advice_free), threshold=1.0),
    "talk-ratio": AssertType(_whole(g.talk_ratio), threshold=1.0, higher_is_better=False),
    "no-repeat": AssertType(_whole(g.no_repeated_question), threshold=1.0),
    "grow": AssertType(_grow, threshold=0.75),
    "phase": AssertType(_phase),
    "commitment": AssertType(_commitment),
    "citations-valid": AssertType(_whole(o.citations_valid)),
    "cited": AssertType(_whole(o.cited_share), threshold=0.5),
    "cites-source": AssertType(_cites_source),
    "openers": AssertType(_openers),
    "no-leak": AssertType(_whole(o.no_leak)),
}


def evaluate(a: Assertion, t: Transcript, case: Case) -> AssertResult:
    """Grade one assertion; 'not-X' passes exactly when X fails; a grader with nothing to judge passes."""
    negate = a.type.startswith("not-")
    kind = ASSERT_TYPES[a.type.removeprefix("not-")]
    threshold = a.threshold if a.threshold is not None else kind.threshold
    grade = kind.grade(t, a, case)
    if not grade.applicable:
        return AssertResult(type=a.type, passed=True, score=grade.score, threshold=threshold, weight=a.weight,
                            detail=f"n/a: {grade.detail}", metric=a.metric)
    passed = grade.score >= threshold if kind.higher_is_better else grade.score <= threshold
    if negate:
        passed = not passed
    return AssertResult(type=a.type, passed=passed, score=grade.score, threshold=threshold, weight=a.weight,
                        detail=grade.detail, metric=a.metric)
