"""Suites other engineers own (safety, retrieval): call their evaluate() and fold the result into a SuiteRun."""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.evals.asserts import AssertResult
from agent.evals.metrics import CASE_PASS_RATE
from agent.evals.runner import CaseRun, SuiteRun

MODULES = {"safety": "agent.evals.safety_eval", "retrieval": "agent.evals.retrieval_eval"}
_ID_KEYS = ("id", "case_id", "case", "name", "q", "question", "message")
_PASS_KEYS = ("passed", "pass", "ok", "correct", "hit")
_DETAIL_KEYS = ("detail", "reason", "got", "why", "error")


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _first(obj: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = _get(obj, k)
        if v is not None:
            return v
    return None


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return None if math.isnan(float(v)) else float(v)


def _as_dict(obj: Any) -> Any:
    return obj.model_dump() if hasattr(obj, "model_dump") else obj


def fold(suite: str, target: str, result: Any) -> SuiteRun:
    """A SuiteRun from whatever evaluate() returned: an object or dict with `metrics` and `cases`."""
    result = _as_dict(result)
    raw_metrics = _get(result, "metrics") or {}
    metrics = {str(k): n for k, v in dict(raw_metrics).items()
               if (n := _number(v if not isinstance(v, dict) else _first(v, ("value", "mean", "score")))) is not None}
    run = SuiteRun(suite=suite, target=target, metrics=metrics, counts={k: 0 for k in metrics})
    for i, raw in enumerate(_get(result, "cases") or _get(result, "results") or []):
        case = _as_dict(raw)
        passed = _first(case, _PASS_KEYS)
        case_metrics = {str(k): n for k, v in (_get(case, "metrics") or {}).items() if (n := _number(v)) is not None}
        ok = bool(passed) if passed is not None else True
        detail = str(_first(case, _DETAIL_KEYS) or "")
        run.cases.append(CaseRun(
            suite=suite, case_id=str(_first(case, _ID_KEYS) or f"case-{i + 1}")[:120], target=target, passed=ok,
            score=1.0 if ok else 0.0, metrics=case_metrics,
            asserts=[AssertResult(type=f"{suite}-expectation", passed=ok, score=1.0 if ok else 0.0, threshold=1.0,
                                  detail=detail[:300])]))
    complete = _get(result, "complete_cases", True)  # False: `cases` lists only the failures
    run.misses_only = not complete
    if run.cases and complete and CASE_PASS_RATE not in run.metrics:
        run.metrics[CASE_PASS_RATE] = sum(c.passed for c in run.cases) / len(run.cases)
    for k in run.metrics:
        run.counts[k] = len(run.cases)
    return run


def retrieval_result(module: Any, available: dict[str, Any]) -> dict[str, Any]:
    """Retrieval on the bundled corpus (expect_note), and on the seed articles (expect) when they are present."""
    from agent.core.resources import corpus_dir, evals_dir

    settings = available["settings"]
    questions = Path(available.get("evals_root") or evals_dir()) / "retrieval" / "questions.yaml"
    runs = {"corpus": module.evaluate(questions, settings, docs_dir=corpus_dir(), expect_key="expect_note",
                                      embedder=settings.embedder)}
    if SEEDS.is_dir():
        runs["seeds"] = module.evaluate(questions, settings, docs_dir=SEEDS, expect_key="expect",
                                        embedder=settings.embedder)
    metrics: dict[str, float] = {}
    cases: list[dict[str, Any]] = []
    for docs, result in runs.items():
        for mode, scores in result.get("modes", {}).items():
            metrics.update({f"{docs}_{mode}_{k}": v for k, v in scores.items() if _number(v) is not None})
            if mode == "hybrid":
                cases += [{"id": f"{docs}: {m['q']}", "passed": False,
                           "detail": f"expected {m['expect']} in the top 3, got {m['got']} (rank@10: {m['rank@10']})"}
                          for m in scores.get("misses", [])]
    return {"metrics": metrics, "cases": cases, "complete_cases": False}


ADAPTERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {"retrieval": retrieval_result}
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"  # present in a checkout, not in a wheel


def run_external(suite: str, target: str, available: dict[str, Any],
                 progress: Callable[[str], None] | None = None) -> SuiteRun:
    """Import the suite's module and call evaluate() (through its adapter, or by matching parameter names)."""
    name = MODULES[suite]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return SuiteRun(suite=suite, target=target, error=f"{name} is not available")
    fn = getattr(module, "evaluate", None)
    if not callable(fn):
        return SuiteRun(suite=suite, target=target, error=f"{name} has no evaluate()")
    if progress:
        progress(f"{target} {suite} (via {name})")
    if suite in ADAPTERS:
        return fold(suite, target, ADAPTERS[suite](module, available))
    params = inspect.signature(fn).parameters
    return fold(suite, target, fn(**{k: v for k, v in available.items() if k in params}))
