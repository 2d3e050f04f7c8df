"""`coach sessions ...` and `coach commitments ...`: list, show, export and delete sessions; track commitments."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from agent.cli.common import friendly, settings_from
from agent.core.homes import expand

sessions_app = typer.Typer(help="List, show, export or delete coaching sessions.", no_args_is_help=False)
commitments_app = typer.Typer(help="What you committed to, and marking it done.", no_args_is_help=False)


def _store() -> Any:
    from agent.store.memory import open_store

    return open_store(settings_from())


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same folder and rename, so an interrupted export never leaves half a file."""
    path = expand(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A killed export can't clean up after itself; its temp file is swept by the next export to the same path.
    stale_before = time.time() - 60
    for old in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < stale_before:
                old.unlink()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@sessions_app.callback(invoke_without_command=True)
@friendly
def sessions_list(ctx: typer.Context,
                  as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
                  limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first.")) -> None:
    """List sessions, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _store().list_sessions(limit=limit)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No sessions yet. Start one with `coach chat`.")
        return
    typer.echo(f"{'ID':<12}  {'LAST TURN':<16}  {'TURNS':>5}  {'PHASE':<8}  TITLE")
    for r in rows:
        typer.echo(f"{r.id:<12}  {r.updated_at[:16].replace('T', ' '):<16}  {r.n_turns:>5}  {r.phase:<8}  "
                   f"{_short(r.title or '(untitled)', 50)}")


@sessions_app.command("show")
@friendly
def sessions_show(session_id: str = typer.Argument(..., help="The session id (see `coach sessions`)."),
                  as_json: bool = typer.Option(False, "--json", help="Full structured JSON.")) -> None:
    """Print a session's transcript with its citations and commitments."""
    typer.echo(_store().export(session_id, "json" if as_json else "markdown"), nl=False)


@sessions_app.command("delete")
@friendly
def sessions_delete(session_id: str = typer.Argument(..., help="The session id (see `coach sessions`)."),
                    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete a session with its messages, citations and commitments."""
    store = _store()
    info = store.get_session(session_id)
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Delete session {info.id} ({info.n_turns} turns, {_short(info.title, 40)!r})?", abort=True)
    store.delete_session(session_id)
    typer.echo(f"deleted session {session_id}")


@sessions_app.command("export")
@friendly
def sessions_export(session_id: str = typer.Argument(..., help="The session id (see `coach sessions`)."),
                    fmt: str = typer.Option("md", "--format", "-f", help="md (readable transcript) or json."),
                    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file.")) -> None:
    """Export a session as Markdown or JSON, to stdout or a file."""
    from agent.core.errors import ConfigError

    if fmt not in ("md", "markdown", "json"):
        raise ConfigError(f"unknown format {fmt!r}: use md or json")
    text = _store().export(session_id, "json" if fmt == "json" else "markdown")
    if out is None:
        typer.echo(text, nl=False)
        return
    write_atomic(out, text)
    typer.echo(f"wrote {out}", err=True)


@commitments_app.callback(invoke_without_command=True)
@friendly
def commitments_list(ctx: typer.Context,
                     show_all: bool = typer.Option(False, "--all", help="Include done and dropped ones."),
                     as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a list.")) -> None:
    """List open commitments (or all of them)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _store().commitments(status=None if show_all else "open")
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("No open commitments." if not show_all else "No commitments yet.")
        return
    for r in rows:
        when = f" (by {r.by_when})" if r.by_when else ""
        measure = f" — you'll know: {r.measure}" if r.measure else ""
        status = "" if r.status == "open" else f" [{r.status}]"
        typer.echo(f"#{r.id}{status} {r.what}{when}{measure}  · session {r.session}")


def _set_status(cid: int, status: str) -> None:
    _store().set_commitment_status(cid, status)
    typer.echo(f"commitment #{cid} marked {status}")


@commitments_app.command("done")
@friendly
def commitments_done(commitment_id: int = typer.Argument(..., help="The number shown by `coach commitments`.")) -> None:
    """Mark a commitment done."""
    _set_status(commitment_id, "done")


@commitments_app.command("drop")
@friendly
def commitments_drop(commitment_id: int = typer.Argument(..., help="The number shown by `coach commitments`.")) -> None:
    """Drop a commitment you no longer mean to keep."""
    _set_status(commitment_id, "dropped")


@commitments_app.command("reopen")
@friendly
def commitments_reopen(commitment_id: int = typer.Argument(..., help="The number shown by `coach commitments`.")
                       ) -> None:
    """Open a done or dropped commitment again."""
    _set_status(commitment_id, "open")


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")
    app.add_typer(commitments_app, name="commitments")
