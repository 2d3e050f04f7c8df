"""`coach eval [SUITE...]`: run the eval suites through the real Coach, write reports, gate on thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agent.cli.common import friendly


def parse_compare(value: str, base: Any) -> Any:
    """--compare X: a provider (optionally provider:model) or a prompt variant of the coach prompt."""
    from agent.core.errors import ConfigError
    from agent.core.prompts import list_variants
    from agent.core.settings import PROVIDERS
    from agent.evals.targets import Target

    provider, _, model = value.partition(":")
    if provider in PROVIDERS:
        return Target(provider=provider, model=model, prompt_variant=base.prompt_variant)
    if value in list_variants("coach"):
        return base.model_copy(update={"prompt_variant": value})
    raise ConfigError(f"--compare {value!r} is neither a provider ({', '.join(PROVIDERS)}) nor a prompt variant "
                      f"({', '.join(list_variants('coach'))})")


def summary_lines(result: Any) -> list[str]:
    """Suite metrics per target, one line each, for the terminal."""
    lines = []
    for run in result.suites:
        shown = ", ".join(f"{k}={v:.3g}" for k, v in sorted(run.metrics.items()))
        passed = sum(c.passed for c in run.cases)
        state = (f"error: {run.error}" if run.error else f"{len(run.cases)} misses listed" if run.misses_only
                 else f"{passed}/{len(run.cases)} cases passed")
        lines.append(f"{run.suite:<10} {run.target:<24} {run.duration_s:5.1f} s  {state}; {shown}")
    return lines


def register(app: typer.Typer) -> None:
    @app.command("eval")
    @friendly
    def eval_command(
        suites: list[str] = typer.Argument(None, help="Suites to run: coaching, openers, safety, retrieval, grounding "
                                                      "(default: all)."),
        provider: str | None = typer.Option(None, "--provider", help="Provider to evaluate (default: settings)."),
        model: str | None = typer.Option(None, "--model", help="Model name for the provider."),
        prompt_variant: str | None = typer.Option(None, "--prompt-variant", help="Coach prompt variant."),
        repeat: int = typer.Option(1, "--repeat", min=1, max=50, help="Run every case N times."),
        report: Path | None = typer.Option(None, "--report", help="Write report.json/.md/.html and junit.xml here."),
        compare: str | None = typer.Option(None, "--compare", help="A/B against a prompt variant or a provider."),
        record: bool = typer.Option(False, "--record", help="Call the real model and record cassettes."),
        judge: bool = typer.Option(False, "--judge", help="Also score transcripts with the LLM judge."),
        judge_provider: str | None = typer.Option(None, "--judge-provider", help="Provider for the judge."),
        judge_repeats: int = typer.Option(3, "--judge-repeats", min=1, max=20, help="Judge each transcript N times."),
        case: str | None = typer.Option(None, "--case", help="Only cases whose id matches this glob (or one of several, comma-separated)."),
        cassettes: Path | None = typer.Option(None, "--cassettes", help="Cassette folder (default: evals/cassettes)."),
        thresholds: Path | None = typer.Option(None, "--thresholds", help="Thresholds file (default: "
                                                                           "evals/thresholds.yaml)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
    ) -> None:
        """Run eval suites offline (cassettes) or live (--record); exit 1 when a threshold is missed."""
        from agent.cli.common import settings_from
        from agent.core.errors import ConfigError
        from agent.core.prompts import list_variants
        from agent.evals.gate import load_thresholds
        from agent.evals.orchestrate import check_suites, run_eval
        from agent.evals.runner import RunOptions
        from agent.evals.targets import Target

        settings = settings_from(provider=provider, model=model, prompt_variant=prompt_variant)
        chosen = check_suites(list(suites or []))
        if settings.prompt_variant not in list_variants("coach"):
            raise ConfigError(f"no coach prompt variant {settings.prompt_variant!r} "
                              f"(variants: {', '.join(list_variants('coach'))})")
        if record and settings.provider == "offline" and not (compare or judge):
            raise ConfigError("--record needs a model provider (--provider openai, llamacpp, ...)")
        if judge and (judge_provider or settings.provider) == "offline":
            raise ConfigError("the LLM judge needs a model provider: pass --judge-provider (or --provider)")
        target = Target(provider=settings.provider, model=settings.model, prompt_variant=settings.prompt_variant)
        opts = RunOptions(suites=chosen, target=target, compare=parse_compare(compare, target) if compare else None,
                          repeat=repeat, record=record, judge=judge, judge_provider=judge_provider,
                          judge_repeats=judge_repeats, cassettes=cassettes, case_filter=case)
        say = (lambda msg: None) if quiet else (lambda msg: typer.echo(f"  {msg}", err=True))
        result = run_eval(opts, settings, progress=say, thresholds=load_thresholds(thresholds))
        for line in summary_lines(result):
            typer.echo(line)
        if report is not None:
            from agent.evals.report import write_reports

            paths = write_reports(result, report)
            typer.echo(f"reports: {paths['html']} (also report.json, report.md, junit.xml)")
        missed = [g for g in result.gate if not g.passed]
        for g in missed:
            if not g.gating:
                typer.echo(f"goal not met (report-only): {g.line()}", err=True)
                continue
            typer.echo(f"threshold missed: {g.line()}" + (f" [{g.why}]" if g.why and g.metric == "suite_ran" else ""),
                       err=True)
        typer.echo(f"eval {'passed' if result.passed else 'FAILED'} in {result.duration_s:.1f} s "
                   f"({len(result.gate) - len(missed)}/{len(result.gate)} thresholds met)")
        if any(g.blocks for g in missed):
            raise typer.Exit(1)
