"""The whole `coach eval`: suites x targets, optional judge, thresholds gate and the A/B comparison."""

from __future__ import annotations

import inspect
import math
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agent.core.errors import ConfigError
from agent.evals.cases import YAML_SUITES, load_suite
from agent.evals.gate import Threshold, ThresholdResult, Thresholds, check, load_thresholds
from agent.evals.metrics import CASE_PASS_RATE, higher_is_better
from agent.evals.runner import ALL_SUITES, ON_DEMAND, Progress, RunOptions, SuiteRun, TargetRunner
from agent.evals.stats import Comparison, compare
from agent.evals.targets import Target, chat_model_for, make_coach, target_settings

TARGET_BOUND = ("coach_factory", "chat_model", "target", "provider", "prompt_variant")


class MetricDelta(Comparison):
    """A Comparison on one suite's metric."""

    suite: str


class EvalResult(BaseModel):
    """Everything a report needs."""

    created_at: str
    duration_s: float = 0.0
    options: RunOptions
    targets: list[Target]
    suites: list[SuiteRun] = Field(default_factory=list)
    gate: list[ThresholdResult] = Field(default_factory=list)
    candidate_gate: list[ThresholdResult] = Field(default_factory=list)
    comparison: list[MetricDelta] = Field(default_factory=list)
    passed: bool = False
    notes: list[str] = Field(default_factory=list)
    thresholds: dict[str, dict[str, Threshold]] = Field(default_factory=dict)

    def runs_for(self, target: Target) -> list[SuiteRun]:
        return [s for s in self.suites if s.target == target.name]


def check_suites(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in ALL_SUITES + ON_DEMAND]
    if unknown:
        raise ConfigError(f"unknown suite(s) {', '.join(unknown)} (choose from {', '.join(ALL_SUITES)})")
    return list(dict.fromkeys(names)) or list(ALL_SUITES)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def corpus_fingerprint() -> str:
    """sha256 over the bundled corpus's file names and bytes: the eval index is rebuilt when it changes."""
    import hashlib

    from agent.core.resources import corpus_dir

    digest = hashlib.sha256()
    root = corpus_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _searcher(base: Any) -> Any:
    """A searcher over the bundled corpus only, kept per embedder and corpus version so reruns skip ingest."""
    import shutil

    from agent.ingest.bundled import open_searcher

    settings = base.model_copy(update={"index_bundled_corpus": True})
    folder = base.home / "eval"
    current = folder / f"index-{settings.embedder}-{corpus_fingerprint()}"
    for stale in folder.glob(f"index-{settings.embedder}-*"):
        if stale != current:
            shutil.rmtree(stale, ignore_errors=True)
    return open_searcher(settings, index_path=current)


def _external(suite: str, target: Target, runner: TargetRunner, opts: RunOptions, cache: dict[str, SuiteRun],
              progress: Progress) -> SuiteRun:
    from agent.evals.external import MODULES, run_external

    def coach_factory() -> Any:
        n = len(cache) + 1
        settings = target_settings(runner.settings, target, runner.home / f"{suite}-{n:03d}")
        searcher = runner.spy if runner.spy.inner is not None else None  # None: the Coach opens its own
        return make_coach(settings, searcher, runner.chat_model(0))[0]

    if suite in cache:  # target-independent suites run once and are shared by both sides
        return cache[suite].model_copy(update={"target": target.name})
    available = {"settings": runner.settings, "target": target, "provider": target.provider,
                 "prompt_variant": target.prompt_variant, "coach_factory": coach_factory,
                 "chat_model": runner.chat_model(0), "searcher": runner.spy, "root": opts.evals_root,
                 "evals_root": opts.evals_root, "progress": progress}
    run = run_external(suite, target.name, available, progress)
    try:
        import importlib

        params = inspect.signature(importlib.import_module(MODULES[suite]).evaluate).parameters
        if not any(p in params for p in TARGET_BOUND):
            cache[suite] = run
    except (ModuleNotFoundError, AttributeError):
        pass
    return run


def _gate(thresholds: Thresholds, runs: list[SuiteRun]) -> list[ThresholdResult]:
    results: list[ThresholdResult] = []
    for run in runs:
        results += check(thresholds, run.suite, run.target, run.metrics)
        if run.error:
            results.append(ThresholdResult(suite=run.suite, metric="suite_ran", target=run.target, value=None,
                                           min=1.0, why=run.error, passed=False, level="missed"))
    return results


def _per_case(run: SuiteRun, metric: str) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for c in run.cases:
        v = float(c.passed) if metric == CASE_PASS_RATE else c.metrics.get(metric)
        if v is not None:
            values.setdefault(c.case_id, []).append(v)
    return {k: sum(v) / len(v) for k, v in values.items()}


def comparisons(base: list[SuiteRun], cand: list[SuiteRun], thresholds: Thresholds) -> list[MetricDelta]:
    """Per suite and metric: candidate minus baseline, bootstrap CI over cases, wins/losses/ties."""
    out: list[MetricDelta] = []
    by_suite = {r.suite: r for r in cand}
    for b in base:
        c = by_suite.get(b.suite)
        if c is None:
            continue
        for metric in sorted(set(b.metrics) | set(c.metrics)):
            bar = thresholds.get(b.suite, {}).get(metric)
            hib = bar.higher_is_better if bar else higher_is_better(metric)
            cmp = compare(metric, _per_case(b, metric), _per_case(c, metric), higher_is_better=hib)
            if cmp.n == 0:  # a suite-level number only: show the delta without an interval
                bv, cv = b.metrics.get(metric, math.nan), c.metrics.get(metric, math.nan)
                cmp = cmp.model_copy(update={"baseline": bv, "candidate": cv, "delta": cv - bv})
            out.append(MetricDelta(suite=b.suite, **cmp.model_dump()))
    return out


def run_eval(opts: RunOptions, base_settings: Any = None, progress: Progress | None = None,
             thresholds: Thresholds | None = None) -> EvalResult:
    """Run every requested suite on the target (and the comparison target), then judge, gate and compare."""
    from agent.core.settings import load_settings

    started = time.perf_counter()
    progress = progress or (lambda msg: None)
    opts = opts.model_copy(update={"suites": check_suites(opts.suites)})
    thresholds = thresholds if thresholds is not None else load_thresholds()
    base = base_settings or load_settings()
    yaml_suites = {n: load_suite(n, opts.evals_root) for n in opts.suites if n in YAML_SUITES}
    targets = [opts.target] + ([opts.compare] if opts.compare else [])
    result = EvalResult(created_at=datetime.now(UTC).isoformat(timespec="seconds"), options=opts,
                        targets=targets, thresholds=thresholds)
    cache: dict[str, SuiteRun] = {}
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as tmp:
        searcher = _searcher(base) if yaml_suites else None
        for target in targets:
            runner = TargetRunner(target, base, searcher, Path(tmp) / _safe(target.name), opts, progress)
            for name in opts.suites:
                began = time.perf_counter()
                run = (runner.run_suite(yaml_suites[name]) if name in yaml_suites
                       else _external(name, target, runner, opts, cache, progress))
                run.duration_s = time.perf_counter() - began
                result.suites.append(run)
            if opts.judge:
                from agent.evals.judging import judge_suites

                judge_suites(result.runs_for(target), _judge_model(base, target, opts), opts.judge_repeats, progress)
    result.gate = _gate(thresholds, result.runs_for(opts.target))
    if opts.compare:
        result.candidate_gate = _gate(thresholds, result.runs_for(opts.compare))
        result.comparison = comparisons(result.runs_for(opts.target), result.runs_for(opts.compare), thresholds)
    result.passed = not any(r.blocks for r in result.gate)
    result.duration_s = time.perf_counter() - started
    return result


def _judge_model(base: Any, target: Target, opts: RunOptions) -> Any:
    from agent.core.resources import evals_dir

    provider = opts.judge_provider or target.provider
    if provider == "offline":
        raise ConfigError("the LLM judge needs a model provider: pass --judge-provider (or --provider) "
                          "openai, anthropic, ollama, openai-compatible or llamacpp")
    settings = target_settings(base, Target(provider=provider, model=target.model if provider == target.provider
                                            else "", prompt_variant=target.prompt_variant))
    return chat_model_for(settings, opts.cassettes or evals_dir() / "cassettes", opts.record)
