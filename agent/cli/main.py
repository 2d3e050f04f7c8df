"""Builds the typer app from one module per command group; heavy dependencies load only inside commands."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="coach",
    help="A Socratic leadership coach, grounded in the texts you give it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module exposes register(app); heavy imports stay inside the command functions.
COMMAND_MODULES = ("ingest_cmd", "search_cmd", "chat_cmd", "sessions_cmd", "openers_cmd", "eval_cmd", "ui_cmd",
                   "doctor_cmd", "serve_cmd")

for _name in COMMAND_MODULES:
    importlib.import_module(f"agent.cli.{_name}").register(app)


@app.command("version")
def version() -> None:
    """Print the coach's version."""
    from agent import __version__

    typer.echo(f"socratic-coach {__version__}")


def main() -> None:
    app()
