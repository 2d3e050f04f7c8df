"""`coach doctor [--repair] [--json]`: check that the index and the store are whole, and repair what it can."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import friendly


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    @friendly
    def doctor(
        repair: Annotated[bool, typer.Option("--repair", help="Fix what can be fixed safely.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
        index: Annotated[
            Path | None, typer.Option("--index", help="Index folder (default: COACH_HOME/index).")
        ] = None,
    ) -> None:
        """Check the index and the session store; exit 0 when healthy (after --repair), 1 otherwise."""
        from agent.cli.common import settings_from
        from agent.store.doctor import run_doctor

        report = run_doctor(settings_from(), repair=repair, index_path=index)
        if as_json:
            typer.echo(report.to_json())
        else:
            for check in report.checks:
                typer.echo(check.line())
            verdict = "healthy" if report.healthy else "problems found"
            typer.echo(f"{verdict} ({report.seconds:.1f} s)")
        raise typer.Exit(0 if report.healthy else 1)
