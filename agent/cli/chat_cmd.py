"""`coach chat` (an interactive, streaming session) and `coach ask MESSAGE` (one turn)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from agent.cli.common import friendly
from agent.cli.render import ask_once, render_openers, show, stream_one

PROVIDER_HELP = "offline, openai, anthropic, ollama, openai-compatible or llamacpp."
HELP = """Commands:
  /sources          the passages behind the last reply
  /openers [TEXT]   the last openers, or openers for a peer situation TEXT
  /new              start a new session
  /resume ID        continue an earlier session
  /export [md|json] print this session as Markdown or JSON
  /help             this list
  /quit             leave (Ctrl-D works too)"""


def _coach(provider: str | None, model: str | None, base_url: str | None, settings: Any = None) -> Any:
    from agent.cli.common import settings_from
    from agent.cli.local import open_coach

    return open_coach(settings or settings_from(provider=provider, model=model, base_url=base_url))


def _command(console: Any, coach: Any, line: str, state: dict[str, Any]) -> bool:
    """Run one /command; False means quit."""
    from agent.core.errors import ConfigError

    name, _, arg = line.partition(" ")
    arg = arg.strip()
    last = state.get("last")
    if name in ("/quit", "/exit", "/q"):
        return False
    if name == "/help":
        console.print(HELP, markup=False, highlight=False)
    elif name == "/sources":
        if not last or not last.citations:
            console.print("No sources for the last reply.")
        for n, c in enumerate(last.citations if last else [], 1):
            console.print(f"[{n}] {c.title} ({c.source}#{c.chunk}, chars {c.start}-{c.end})", markup=False)
            console.print("    " + " ".join(c.text.split())[:400], markup=False, highlight=False)
    elif name == "/openers":
        openers = coach.openers(arg) if arg else (last.openers if last else [])
        if not openers:
            console.print("No openers yet; try /openers followed by the relationship, e.g. "
                          "/openers my peer in finance keeps blocking me", markup=False)
        render_openers(console, openers)
    elif name == "/new":
        state["session"], state["last"] = None, None
        console.print("New session; say what is on your mind.")
    elif name == "/resume":
        if not arg:
            raise ConfigError("usage: /resume SESSION_ID (see `coach sessions`)")
        info = coach.store.get_session(arg)
        state["session"], state["last"] = info.id, None
        console.print(f"Resumed {info.id}: {info.title} ({info.n_turns} turns, phase {info.phase}).",
                      markup=False)
        for msg in coach.store.history(info.id)[-4:]:
            console.print(f"  {msg.role}> {msg.text}", markup=False, highlight=False)
    elif name == "/export":
        if not state.get("session"):
            raise ConfigError("nothing to export yet: this session has no turns")
        fmt = {"md": "markdown", "": "markdown"}.get(arg, arg)
        console.print(coach.store.export(state["session"], fmt), markup=False, highlight=False)
    else:
        raise ConfigError(f"unknown command {name}; type /help")
    return True


def register(app: typer.Typer) -> None:
    @app.command("chat")
    @friendly
    def chat(
        session: str | None = typer.Option(None, "--session", help="Continue this session id."),
        provider: str | None = typer.Option(None, "--provider", help=PROVIDER_HELP),
        model: str | None = typer.Option(None, "--model", help="Model name for the provider."),
        base_url: str | None = typer.Option(None, "--base-url", help="An openai-compatible endpoint."),
    ) -> None:
        """An interactive coaching session; /help lists the commands."""
        from rich.console import Console

        from agent.core.errors import CoachError

        console = Console()
        coach = _coach(provider, model, base_url)
        if session:
            coach.store.get_session(session)
        state: dict[str, Any] = {"session": session, "last": None}
        console.print("[bold]Socratic coach[/bold] · what would you like to think through? "
                      "[dim](/help for commands, Ctrl-D to leave)[/dim]")
        try:
            while True:
                console.print("[bold blue]you>[/bold blue] ", end="")
                line = sys.stdin.readline()
                if not line:
                    console.print()
                    break
                line = line.strip()
                if not line:
                    continue
                try:
                    if line.startswith("/"):
                        if not _command(console, coach, line, state):
                            break
                        continue
                    turn = stream_one(console, coach, state["session"], line)
                    state["session"], state["last"] = turn.session, turn
                except CoachError as exc:
                    console.print(f"[red]error:[/red] {exc}", highlight=False)
        finally:
            coach.close()
        if state["session"]:
            console.print(f"[dim]session {state['session']} saved; resume with coach chat --session "
                          f"{state['session']}[/dim]")

    @app.command("ask")
    @friendly
    def ask(
        message: str = typer.Argument(..., help="What you want to think through."),
        session: str | None = typer.Option(None, "--session", help="Continue this session id."),
        provider: str | None = typer.Option(None, "--provider", help=PROVIDER_HELP),
        model: str | None = typer.Option(None, "--model", help="Model name for the provider."),
        base_url: str | None = typer.Option(None, "--base-url", help="An openai-compatible endpoint."),
        as_json: bool = typer.Option(False, "--json", help="Print the whole CoachTurn as JSON."),
    ) -> None:
        """One coaching turn: the reply, its sources and openers (or the CoachTurn as JSON)."""
        from agent.cli.common import settings_from

        settings = settings_from(provider=provider, model=model, base_url=base_url)
        if provider is None and model is None and base_url is None:
            from agent.cli.remote import remote_turn

            data = remote_turn(settings, session, message)  # a running `coach serve` answers in milliseconds
            if data is not None:
                from agent.core.types import CoachTurn

                show(CoachTurn.model_validate(data), as_json)
                return
        coach = _coach(provider, model, base_url, settings)
        try:
            ask_once(coach, session, message, as_json)
        finally:
            coach.close()
