"""The metrics every case run of a suite is scored on, whatever its assertions say; thresholds.yaml gates them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.evals import graders as g
from agent.evals import graders_injection as inj
from agent.evals import graders_meaning as m
from agent.evals import graders_outcome as o
from agent.evals.grade import Grade, not_applicable
from agent.evals.transcript import Transcript

if TYPE_CHECKING:
    from agent.evals.cases import Case


@dataclass(frozen=True)
class Metric:
    """A per-case score, its direction, and a label for reports."""

    grade: Callable[[Transcript, Case], Grade]
    label: str
    higher_is_better: bool = True


def _commitment(t: Transcript, case: Case) -> Grade:
    if not case.ends_with_commitment:
        return not_applicable("case does not end with a commitment")
    return o.commitment_captured(t)


def _openers(t: Transcript, case: Case) -> Grade:
    if case.openers is None:
        return not_applicable("no openers requested")
    return o.openers_quality(t.openers, case.openers.peer, case.openers.k)


def _on(fn: Callable[[Transcript], Grade]) -> Callable[[Transcript, Case], Grade]:
    return lambda t, case: fn(t)


METRICS: dict[str, Metric] = {
    "one_question_share": Metric(_on(g.one_question_share), "turns with exactly one question"),
    "open_question_share": Metric(_on(g.open_question_share), "open questions"),
    "reflection_to_question": Metric(_on(g.reflection_to_question), "reflections per question"),
    "complex_reflection_share": Metric(_on(g.complex_reflection_share), "complex reflections"),
    "unasked_advice_free": Metric(_on(g.unasked_advice_free), "turns free of unasked advice"),
    "coach_talk_ratio": Metric(_on(g.talk_ratio), "coach words per client word", higher_is_better=False),
    "no_repeated_question": Metric(_on(g.no_repeated_question), "questions not repeated"),
    "grow_progression": Metric(lambda t, c: o.grow_progression(t, require_will=c.ends_with_commitment),
                               "GROW steps forward (and reaching will when due)"),
    "commitment_captured": Metric(_commitment, "commitment with what and by_when"),
    "citations_valid": Metric(_on(o.citations_valid), "citations retrieved and on topic"),
    "cited_share": Metric(_on(o.cited_share), "turns citing a passage"),
    "openers_quality": Metric(_openers, "openers first-person, owning, naming the relationship"),
    "no_leak": Metric(_on(o.no_leak), "replies without canary or prompt leak"),
    "reflection_fidelity": Metric(_on(m.reflection_fidelity), "reflections using only their words or licensed meanings"),
    "question_relevance": Metric(_on(m.question_relevance), "questions close in meaning to the last message"),
    "garbled_quotes": Metric(_on(m.garbled_quotes), "quotes or restatements cut mid-clause or unswapped",
                             higher_is_better=False),
    "pushback_handled": Metric(_on(m.pushback_handled), "pushback turns acknowledged, not re-asked"),
    "advice_request_handled": Metric(_on(m.advice_request_handled), "advice requests: brief, cited, handed back"),
    "phase_reasons": Metric(_on(m.phase_reasons), "phases held for a reason (goal first, close after an action)"),
    "injection_obeyed": Metric(_on(inj.injection_obeyed), "replies carrying out an instruction from input or passages",
                               higher_is_better=False),
}
MEANING = ("reflection_fidelity", "question_relevance", "garbled_quotes", "pushback_handled",
           "advice_request_handled", "phase_reasons")

SUITE_METRICS: dict[str, tuple[str, ...]] = {  # heldout: the blind coaching split, graded alike
    "coaching": ("one_question_share", "open_question_share", "reflection_to_question", "complex_reflection_share",
                 "unasked_advice_free", "coach_talk_ratio", "no_repeated_question", "grow_progression",
                 "commitment_captured", "citations_valid", "no_leak", "injection_obeyed") + MEANING,
    "openers": ("openers_quality", "citations_valid", "no_leak"),
    "grounding": ("citations_valid", "cited_share", "one_question_share", "unasked_advice_free", "no_leak",
                  "injection_obeyed"),
}

SUITE_METRICS["heldout"] = SUITE_METRICS["coaching"]
CASE_PASS_RATE = "case_pass_rate"  # share of cases whose assertions all passed; every suite reports it


LOWER_IS_BETTER_HINTS = ("_ms", "latency", "false_positive", "leak_rate", "miss_rate", "error_rate", "spread",
                         "unreadable")


def higher_is_better(name: str) -> bool:
    """A metric's direction: known metrics say so; other suites' names ending like latencies or error rates go down."""
    m = METRICS.get(name)
    return m.higher_is_better if m else not any(h in name for h in LOWER_IS_BETTER_HINTS)


def score_case(suite: str, t: Transcript, case: Case) -> dict[str, Grade]:
    """Every metric of `suite` for one case run (including the not-applicable ones, so reports can say so)."""
    return {name: METRICS[name].grade(t, case) for name in SUITE_METRICS.get(suite, ())}
