"""`coach ask` run in this process without typer: the same turn, output and errors as the typer command."""

from __future__ import annotations

import sys
from typing import Any


def open_coach(settings: Any) -> Any:
    """A Coach for `settings`, its embedding model loading in a thread while the pipeline's modules import."""
    from agent.serve.warm import start

    start(settings, ("embedder",))
    from agent.coach.pipeline import Coach

    return Coach(settings)


def local_ask(message: str, session: str | None, as_json: bool) -> None:
    """One turn printed as `coach ask` prints it; a CoachError is one stderr line and exit code 2."""
    from agent.core.errors import CoachError

    try:
        from agent.core.settings import load_settings

        coach = open_coach(load_settings())
        try:
            if as_json:
                sys.stdout.write(coach.turn(session, message).model_dump_json(indent=2) + "\n")
                return
            from rich.console import Console

            from agent.cli.render import stream_one

            console = Console()
            turn = stream_one(console, coach, session, message)
            console.print(f"[dim]session {turn.session}[/dim]")
        finally:
            coach.close()
    except CoachError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None
