"""`coach openers "SITUATION"`: three radical-ownership openers for a peer relationship."""

from __future__ import annotations

import json

import typer

from agent.cli.common import friendly


def register(app: typer.Typer) -> None:
    @app.command("openers")
    @friendly
    def openers(
        situation: str = typer.Argument(..., help='The relationship, e.g. "Priya in sales blocks me".'),
        k: int = typer.Option(3, "--k", min=1, max=3, help="How many openers."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list of openers."),
    ) -> None:
        """Draft first-person, curious openers that own your part, each citing a note."""
        from agent.cli.common import settings_from
        from agent.coach.pipeline import Coach

        coach = Coach(settings_from())
        try:
            drafted = coach.openers(situation, k=k)
        finally:
            coach.close()
        if as_json:
            typer.echo(json.dumps([o.model_dump() for o in drafted], indent=2, ensure_ascii=False))
            return
        from rich.console import Console

        from agent.cli.render import render_openers

        render_openers(Console(), drafted)
