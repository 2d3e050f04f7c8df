"""Helpers every command shares: settings from options, and one-line errors instead of tracebacks."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from agent.core.errors import CoachError


def fail(message: str, code: int = 2) -> None:
    """Print one line to stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one-line errors, and Ctrl-C or a closed stdout into a quiet exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CoachError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("", err=True)
            sys.exit(130)
        except BrokenPipeError:
            from agent.cli.render import reader_gone

            reader_gone()

    return wrapper


def settings_from(**overrides: Any):
    """Load settings with CLI options layered over env and config; None means 'not given'."""
    from agent.core.settings import load_settings

    return load_settings(**overrides)
