"""The CLI's side of `coach serve`: hand a turn to the running server, or say None so the turn runs in process."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

from agent.core.errors import CoachError

CONNECT_TIMEOUT_S = 0.5  # a server that is not answering costs at most this before the in-process fallback


def server_address(settings: Any) -> tuple[str, int] | None:
    """(host, port) from serve.json in the data dir; None when no server (with these settings) published one."""
    try:
        state = json.loads((Path(settings.home) / "serve.json").read_text(encoding="utf-8"))
        if (state.get("provider"), state.get("model")) != (settings.provider, settings.model):
            return None  # a server with another model: this turn runs in process, as configured
        return str(state["host"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remote_turn(settings: Any, session: str | None, message: str) -> dict[str, Any] | None:
    """The turn as JSON from a running `coach serve`; None when there is none or it does not answer."""
    if not getattr(settings, "serve", True):
        return None
    address = server_address(settings)
    if address is None:
        return None
    conn = http.client.HTTPConnection(*address, timeout=CONNECT_TIMEOUT_S)
    try:
        conn.connect()
    except OSError:
        return None  # a server killed without cleaning up: its serve.json is stale
    try:
        conn.sock.settimeout(float(settings.timeout) + 30)
        body = json.dumps({"message": message, "session": session})
        conn.request("POST", "/v1/turn", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = json.loads(resp.read() or b"{}")
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()
    if resp.status != 200:
        raise CoachError(str((data.get("error") or {}).get("message") or f"coach serve answered {resp.status}"))
    return data
