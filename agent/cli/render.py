"""Printing a turn in the terminal: the reply's sources, opener cards, phase and safety (rich, no typer)."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any


def as_record(data: Any) -> Any:
    """A turn's JSON as nested attribute records (turn.safety.category, c.title), for the printers below."""
    if isinstance(data, dict):
        return SimpleNamespace(**{k: as_record(v) for k, v in data.items()})
    if isinstance(data, list):
        return [as_record(v) for v in data]
    return data


def sources_line(turn: Any) -> str:
    """'Sources: [1] Title (source#chunk) ...' for a turn, or ''."""
    if not turn.citations:
        return ""
    refs = (f"[{n}] {c.title} ({c.source}#{c.chunk})" for n, c in enumerate(turn.citations, 1))
    return "Sources: " + "  ".join(refs)


def render_extras(console: Any, turn: Any) -> None:
    """Everything after the reply: sources, opener cards, phase and safety."""
    from rich.markup import escape
    from rich.panel import Panel

    line = sources_line(turn)
    if line:
        console.print(f"[dim]{escape(line)}[/dim]", highlight=False)
    render_openers(console, turn.openers)
    bits = [f"phase: {turn.phase}"]
    if turn.situation:
        bits.append(f"situation: {turn.situation}")
    if turn.commitment:
        c = turn.commitment
        bits.append(f"commitment: {c.what}" + (f" ({c.by_when})" if c.by_when else ""))
    if turn.safety.category != "ok":
        bits.append(f"safety: {turn.safety.category}")
    console.print(Panel.fit(escape(" · ".join(bits)), border_style="dim"), style="dim")


def render_openers(console: Any, openers: list[Any]) -> None:
    from rich.markup import escape
    from rich.panel import Panel

    for n, op in enumerate(openers, 1):
        c = op.citation
        cite = f"\n[dim]{escape(c.title)} ({escape(c.source)}#{c.chunk})[/dim]" if c else ""
        console.print(Panel(f"{escape(op.text)}\n[italic]{escape(op.why)}[/italic]{cite}",
                            title=f"opener {n}", title_align="left", border_style="cyan"))


def show(turn: Any, as_json: bool) -> None:
    """Print a whole turn (one answered by `coach serve`): as JSON, or the reply and its extras."""
    if as_json:
        sys.stdout.write(turn.model_dump_json(indent=2) + "\n")
        return
    from rich.console import Console

    console = Console()
    console.print("[bold green]coach>[/bold green] ", end="")
    console.print(turn.reply, markup=False, highlight=False)
    render_extras(console, turn)
    console.print(f"[dim]session {turn.session}[/dim]")


def pipe_console() -> Any:
    """A rich Console on stdout that raises BrokenPipeError when the reader has gone.

    Why: rich's default exits at once with status 1, in the middle of a turn that then is never saved."""
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError("stdout was closed")

    return PipeConsole()


def reader_gone() -> None:
    """Exit quietly with Python's status for a closed stdout (`| head -1`), not with a traceback."""
    import os

    # The interpreter's final flush of stdout would fail again: stdout points at /dev/null from here on.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(120)


def stream_one(console: Any, coach: Any, session: str | None, message: str) -> Any:
    """Print the reply as it streams, then the extras; returns the CoachTurn."""
    from agent.core.types import CoachTurn

    shown = ""
    final = None
    started = gone = False
    for piece in coach.stream_turn(session, message):
        try:
            if not started:  # not before: a provider that fails to start must not leave "coach> " on stdout
                started = True
                console.print("[bold green]coach>[/bold green] ", end="")
            if isinstance(piece, CoachTurn):
                final = piece
            elif not gone:
                shown += piece
                console.file.write(piece)
                console.file.flush()
        except BrokenPipeError:
            gone = True  # the reader left (`| head -1`): the turn still runs to its end, so it is saved
    if gone:
        raise BrokenPipeError("stdout closed while the reply streamed")
    console.print()
    if final is not None and " ".join(final.reply.split()) != " ".join(shown.split()):
        console.print(f"[yellow](revised)[/yellow] {final.reply}", highlight=False, markup=False)
    render_extras(console, final)
    return final


def ask_once(coach: Any, session: str | None, message: str, as_json: bool) -> None:
    """One `coach ask` turn on an open coach: the CoachTurn as JSON, or the reply streamed with its session id."""
    if as_json:
        sys.stdout.write(coach.turn(session, message).model_dump_json(indent=2) + "\n")
        return
    console = pipe_console()
    turn = stream_one(console, coach, session, message)
    console.print(f"[dim]session {turn.session}[/dim]")
