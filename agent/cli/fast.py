"""`coach ask MESSAGE [--json] [--session ID]` without typer: handed to a running `coach serve`, else run here."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import Any

NO = ("0", "false", "no", "off")


def parse_ask(argv: list[str]) -> tuple[str, str | None, bool] | None:
    """(message, session, as_json) for a plain `ask`; None for anything else (the full CLI handles it)."""
    if len(argv) < 2 or argv[0] != "ask":
        return None
    message: str | None = None
    session: str | None = None
    as_json = False
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--json":
            as_json = True
        elif arg == "--session":
            session = next(rest, None)
            if session is None:
                return None
        elif arg.startswith("--session="):
            session = arg.partition("=")[2]
        elif arg.startswith("-") or message is not None:
            return None  # --help, --provider and the like, or a second argument: typer's job
        else:
            message = arg
    return (message, session, as_json) if message is not None else None


def quick_settings() -> Any:
    """home, provider, model, serve and timeout as the settings would read them (env over config.toml), without
    pydantic (its import alone is 0.2 s); None when anything looks unusual, so the full settings judge it."""
    from agent.core.homes import config_path, default_home, expand

    conf: dict[str, Any] = {}
    try:
        path = config_path()
    except ValueError:  # a ConfigError ("~nobody" has no home): the full settings report it in one line
        return None
    if path.is_file():
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            return None
        conf = data.get("coach", data) if isinstance(data, dict) else {}
    elif os.environ.get("COACH_CONFIG"):
        return None

    def get(key: str, default: Any) -> Any:
        return os.environ.get(f"COACH_{key.upper()}", conf.get(key, default))

    try:
        return SimpleNamespace(
            home=expand(os.environ.get("COACH_HOME") or conf.get("home") or default_home()),
            provider=str(get("provider", "offline")), model=str(get("model", "")),
            serve=str(get("serve", True)).lower() not in NO, timeout=float(get("timeout", 60.0)))
    except (TypeError, ValueError):  # ValueError includes a ConfigError for "~nobody": the settings say so
        return None


def try_fast(argv: list[str]) -> bool:
    """True when the turn was answered (by a running server, or in this process); False sends it to typer."""
    parsed = parse_ask(argv)
    if parsed is None:
        return False
    message, session, as_json = parsed
    settings = quick_settings()
    if settings is None:
        return False
    from agent.cli.remote import remote_turn
    from agent.core.errors import CoachError

    try:
        data = remote_turn(settings, session, message)
    except CoachError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(2) from None
    if data is None:
        from agent.cli.local import local_ask

        local_ask(message, session, as_json)  # typer, and its command modules, cost ~0.1 s to import
        return True
    from agent.cli.render import as_record, show

    if as_json:  # the same text as CoachTurn.model_dump_json(indent=2), without importing pydantic
        import json

        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        show(as_record(data), as_json=False)
    return True
