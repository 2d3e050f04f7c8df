"""Run eval suites through the real Coach for one or two targets, and grade every case run."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.core.errors import CoachError
from agent.evals.asserts import AssertResult, evaluate
from agent.evals.cases import YAML_SUITES, Case, Suite, load_suite
from agent.evals.cassette import CassetteMiss
from agent.evals.metrics import CASE_PASS_RATE, score_case
from agent.evals.stats import Spread
from agent.evals.targets import (
    SearchSpy,
    Target,
    chat_model_for,
    close,
    coach_openers,
    leak_context,
    make_coach,
    target_settings,
)
from agent.evals.transcript import Exchange, Transcript

EXTERNAL_SUITES = ("safety", "retrieval")
ALL_SUITES = ("coaching", "openers", "safety", "retrieval", "grounding")
ON_DEMAND = ("heldout",)  # the blind coaching split: named explicitly (`coach eval heldout`), measured once
Progress = Callable[[str], None]


class CaseRun(BaseModel):
    """One run of one case on one target: assertion results, metric scores and the transcript."""

    suite: str
    case_id: str
    description: str = ""
    target: str
    repeat: int = 0
    passed: bool
    score: float = 0.0  # weighted share of assertions passed
    asserts: list[AssertResult] = Field(default_factory=list)
    metrics: dict[str, float | None] = Field(default_factory=dict)  # None: the metric did not apply
    details: dict[str, str] = Field(default_factory=dict)
    transcript: Transcript = Field(default_factory=Transcript)
    error: str = ""
    ms: float = 0.0
    judge: dict[str, Spread] | None = None
    judge_unreadable: int = 0


class SuiteRun(BaseModel):
    """Every case run of a suite on one target, with the suite's aggregated metrics."""

    suite: str
    target: str
    cases: list[CaseRun] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    error: str = ""
    misses_only: bool = False  # the suite lists only its failures (retrieval), so cases are not a pass rate
    duration_s: float = 0.0


class RunOptions(BaseModel):
    """Everything `coach eval` was asked to do."""

    suites: list[str] = Field(default_factory=lambda: list(ALL_SUITES))
    target: Target = Field(default_factory=Target)
    compare: Target | None = None
    repeat: int = Field(1, ge=1, le=50)
    record: bool = False
    judge: bool = False
    judge_provider: str | None = None
    judge_repeats: int = Field(3, ge=1, le=20)
    cassettes: Path | None = None
    case_filter: str | None = None  # glob on case ids
    evals_root: Path | None = None


def drive(case: Case, coach: Any, spy: SearchSpy) -> Transcript:
    """Send the case's turns to the Coach (new sessions where asked), then ask for openers if the case wants them."""
    t = Transcript(case_id=case.id)
    session: str | None = None
    for turn in case.turns:
        if turn.new_session:
            session = None
        spy.reset()
        started = time.perf_counter()
        result = coach.turn(session, turn.user)
        session = result.session or session
        t.exchanges.append(Exchange(user=turn.user, turn=result, hits=spy.take(),
                                    ms=(time.perf_counter() - started) * 1000, tags=turn.tags,
                                    not_said=turn.not_said))
    if case.openers is not None:
        spy.reset()
        t.openers = coach_openers(coach, case.openers.situation, case.openers.peer, case.openers.k)
        t.opener_hits = spy.take()
        t.opener_request = case.openers.situation
    return t


def grade_run(suite: str, case: Case, t: Transcript, target: str, repeat: int, error: str, ms: float) -> CaseRun:
    """Assertions and metrics for one transcript; an error fails the case."""
    results = [evaluate(a, t, case) for a in case.assert_]
    grades = score_case(suite, t, case)
    total = sum(r.weight for r in results) or 1.0
    score = sum(r.weight for r in results if r.passed) / total
    return CaseRun(suite=suite, case_id=case.id, description=case.description, target=target, repeat=repeat,
                   passed=not error and all(r.passed for r in results), score=0.0 if error else score,
                   asserts=results, metrics={k: (g.score if g.applicable else None) for k, g in grades.items()},
                   details={k: g.detail for k, g in grades.items()}, transcript=t, error=error, ms=ms)


def aggregate(run: SuiteRun) -> SuiteRun:
    """Suite metrics: each metric's mean over the case runs it applied to, plus the case pass rate."""
    sums: dict[str, list[float]] = {}
    for c in run.cases:
        for name, value in c.metrics.items():
            if value is not None:
                sums.setdefault(name, []).append(value)
    run.metrics = {k: sum(v) / len(v) for k, v in sums.items()}
    run.counts = {k: len(v) for k, v in sums.items()}
    if run.cases:
        run.metrics[CASE_PASS_RATE] = sum(c.passed for c in run.cases) / len(run.cases)
        run.counts[CASE_PASS_RATE] = len(run.cases)
        turns = [e.ms for c in run.cases for e in c.transcript.exchanges]
        if turns:
            run.metrics["turn_ms_mean"] = sum(turns) / len(turns)
            run.counts["turn_ms_mean"] = len(turns)
            # a weak model's unusable answers are covered by the offline engine: the scores then measure that
            fell = ["model_fallback:" in e.turn.safety.reason for c in run.cases for e in c.transcript.exchanges]
            run.metrics["model_fallback_share"] = sum(fell) / len(fell)
            run.counts["model_fallback_share"] = len(fell)
    return run


class TargetRunner:
    """Runs YAML suites for one target: one shared searcher, one store per case, one chat model per repeat."""

    def __init__(self, target: Target, base_settings: Any, searcher: Any, home: Path, opts: RunOptions,
                 progress: Progress | None = None) -> None:
        self.target = target
        self.settings = target_settings(base_settings, target)
        self.spy = SearchSpy(searcher)
        self.home = home
        self.opts = opts
        self.progress = progress or (lambda msg: None)
        self._models: dict[int, Any] = {}
        self._n = 0

    def chat_model(self, repeat: int) -> Any:
        if repeat not in self._models:
            from agent.core.resources import evals_dir

            folder = self.opts.cassettes or (evals_dir() / "cassettes")
            first = self._models.get(0)
            if first is not None and repeat:
                self._models[repeat] = first.model_copy(update={"sample": repeat})
            else:
                self._models[repeat] = chat_model_for(self.settings, folder, self.opts.record, repeat)
        return self._models[repeat]

    def run_case(self, suite: str, case: Case, repeat: int) -> CaseRun:
        self._n += 1
        settings = target_settings(self.settings, self.target, self.home / f"case-{self._n:04d}")
        started = time.perf_counter()
        coach, store = make_coach(settings, self.spy, self.chat_model(repeat))
        t, error = Transcript(case_id=case.id), ""
        try:
            t = drive(case, coach, self.spy)
        except CassetteMiss:
            raise  # every later case would miss too: stop with the one clear line
        except CoachError as exc:
            error = str(exc)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            close(store)
        t.canary, t.system_prompt = leak_context(coach, self.target.prompt_variant)
        return grade_run(suite, case, t, self.target.name, repeat, error, (time.perf_counter() - started) * 1000)

    def run_suite(self, suite: Suite) -> SuiteRun:
        run = SuiteRun(suite=suite.name, target=self.target.name)
        globs = [g.strip() for g in (self.opts.case_filter or "").split(",") if g.strip()]
        cases = [c for c in suite.cases if not globs or any(fnmatch.fnmatch(c.id, g) for g in globs)]
        for i, case in enumerate(cases, 1):
            for r in range(self.opts.repeat):
                run.cases.append(self.run_case(suite.name, case, r))
            self.progress(f"{self.target.name} {suite.name} {i}/{len(cases)} {case.id}")
        return aggregate(run)


def load_yaml_suite(name: str, root: Path | None) -> Suite:
    return load_suite(name, root)


def is_yaml_suite(name: str) -> bool:
    return name in YAML_SUITES
