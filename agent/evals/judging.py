"""Apply the LLM judge to the conversational suites and fold its scores into case and suite metrics."""

from __future__ import annotations

from typing import Any

from agent.evals.judge import DIMENSIONS, judge_transcript
from agent.evals.runner import Progress, SuiteRun

JUDGED_SUITES = ("coaching", "grounding")


def judge_suites(runs: list[SuiteRun], model: Any, repeats: int, progress: Progress | None = None) -> None:
    """Judge the first repeat of each case; suite metrics get judge_<dimension> means and judge_spread."""
    for run in runs:
        if run.suite not in JUDGED_SUITES:
            continue
        judged = [c for c in run.cases if c.repeat == 0 and not c.error and c.transcript.exchanges]
        for i, case in enumerate(judged, 1):
            result = judge_transcript(model, case.transcript, repeats=repeats)
            case.judge = result.scores
            case.judge_unreadable = result.unreadable
            for dim, s in result.scores.items():
                if s.n:
                    case.metrics[f"judge_{dim}"] = s.mean
            if progress:
                progress(f"judge {run.target} {run.suite} {i}/{len(judged)} {case.case_id}")
        for dim in DIMENSIONS:
            vals = [c.judge[dim].mean for c in judged if c.judge and c.judge[dim].n]
            if vals:
                run.metrics[f"judge_{dim}"] = sum(vals) / len(vals)
                run.counts[f"judge_{dim}"] = len(vals)
        spreads = [s.std for c in judged if c.judge for s in c.judge.values() if s.n > 1]
        if spreads:
            run.metrics["judge_spread"] = sum(spreads) / len(spreads)
            run.counts["judge_spread"] = len(spreads)
        unreadable = sum(c.judge_unreadable for c in judged)
        total = len(judged) * repeats
        if total:
            run.metrics["judge_unreadable_rate"] = unreadable / total
            run.counts["judge_unreadable_rate"] = total
