"""`coach ask` run in this process without typer: the same turn, output and errors as the typer command."""

from __future__ import annotations

import sys
from typing import Any


def open_coach(settings: Any) -> Any:
    """A Coach for `settings`; its embedding model, spaCy and the safety classifier load in threads meanwhile."""
    from agent.serve.warm import start

    start(settings, ("embedder", "hooks"))
    from agent.coach.pipeline import Coach

    return Coach(settings)


def local_ask(message: str, session: str | None, as_json: bool) -> None:
    """One turn printed as `coach ask` prints it; a CoachError is one stderr line and exit code 2."""
    from agent.core.errors import CoachError

    try:
        from agent.core.settings import load_settings

        coach = open_coach(load_settings())
        try:
            from agent.cli.render import ask_once

            ask_once(coach, session, message, as_json)
        finally:
            coach.close()
    except CoachError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    except BrokenPipeError:
        from agent.cli.render import reader_gone

        reader_gone()
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None
