"""`coach ingest PATH...`: add or update files and folders in the retrieval index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.common import friendly

LONG_RUN_FILES = 20  # above this many files, show progress even when stderr is not a terminal
STAGES = {"read": "reading files", "index": "indexing chunks"}


class ProgressReporter:
    """A rich progress bar on a terminal; plain lines on stderr otherwise (only for long runs)."""

    def __init__(self, tty: bool | None = None, console: Any = None) -> None:
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.console = console  # a rich Console; stderr's by default
        self.enabled: bool | None = None
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._last_pct: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.enabled is None:  # decided on the first report, when the number of files is known
            self.enabled = self.tty or (stage == "read" and total > LONG_RUN_FILES)
        if not self.enabled:
            return
        if self.tty:
            self._rich(stage, done, total)
        else:
            pct = 100 * done // max(total, 1)
            if done in (1, total) or pct // 10 > self._last_pct.get(stage, -1) // 10:
                self._last_pct[stage] = pct
                print(f"{STAGES.get(stage, stage)}: {done}/{total}", file=sys.stderr, flush=True)

    def _rich(self, stage: str, done: int, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console or Console(stderr=True),
                transient=True,
            )
            self._bar.start()
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(STAGES.get(stage, stage), total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    @friendly
    def ingest(
        paths: Annotated[
            list[Path],
            typer.Argument(
                metavar="PATH",
                help="Files or folders of .md .markdown .txt .html .htm .pdf (skips hidden, README files)",
            ),
        ],
        index: Annotated[
            Path | None, typer.Option("--index", help="Index folder (default: COACH_HOME/index).")
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    ) -> None:
        """Add files to the index; unchanged files are skipped and the whole run lands atomically."""
        from agent.cli.common import settings_from
        from agent.ingest.pipeline import ingest_paths

        settings = settings_from()
        reporter = None if quiet else ProgressReporter()
        try:
            report = ingest_paths(paths, settings, index_path=index, progress=reporter)
        finally:
            if reporter is not None:
                reporter.close()
        for path, reason in report.failed:
            typer.echo(f"error: {path}: {reason}", err=True)
        typer.echo(report.summary())
        raise typer.Exit(1 if report.failed else 0)
