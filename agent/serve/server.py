"""A resident coach on 127.0.0.1: POST /v1/turn, the OpenAI-compatible /v1/chat/completions, GET /health."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.core.errors import CoachError
from agent.serve.openai_api import BadRequest, ChunkWriter, completion, error_body, read_request

STATE_FILE = "serve.json"  # in the data dir: where the CLI finds a running server
MAX_BODY = 1 << 20
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def state_path(settings: Any) -> Path:
    return Path(settings.home) / STATE_FILE


class CoachServer(ThreadingHTTPServer):
    """One Coach for every request; turns run one at a time (the store and the model are shared)."""

    daemon_threads = True

    def __init__(self, settings: Any, host: str = "127.0.0.1", port: int = 0, coach: Any = None) -> None:
        super().__init__((host, port), Handler)
        from agent.coach.pipeline import Coach

        self.settings = settings
        self.coach = coach or Coach(settings)
        self.turn_lock = threading.Lock()
        self.model_name = f"socratic-coach-{settings.provider}"
        self.turns = 0  # answered turns, for /health

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def warm(self) -> None:
        """Load the index, the models and the rules before the first request (in parallel threads)."""
        from agent.serve.warm import start

        threads = start(self.settings)
        self.coach.searcher.warm()
        _ = self.coach.engine
        for t in threads:
            t.join()

    def publish(self) -> Path:
        """Write serve.json (atomically) so `coach ask` and `coach chat` find this server."""
        path = state_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        host = self.server_address[0]
        tmp.write_text(json.dumps({"pid": os.getpid(), "host": host, "port": self.port,
                                   "provider": self.settings.provider, "model": self.settings.model}), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def unpublish(self) -> None:
        path = state_path(self.settings)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()

    def run_turn(self, session: str | None, message: str) -> dict[str, Any]:
        with self.turn_lock:
            turn = self.coach.turn(session, message).model_dump(mode="json")
            self.turns += 1
            return turn


class Handler(BaseHTTPRequestHandler):
    """JSON in, JSON (or server-sent events) out; every error is a JSON body with one clear message."""

    server: CoachServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # quiet: requests carry what people wrote to their coach

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fail(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None) -> None:
        self._send(status, error_body(message, kind, param))

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/health":
            self._send(200, {"ok": True, "pid": os.getpid(), "provider": self.server.settings.provider,
                             "turns": self.server.turns})
        elif self.path == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": self.server.model_name, "object": "model", "created": 0, "owned_by": "socratic-coach"}]})
        else:
            self._fail(404, f"no such endpoint: GET {self.path}", "not_found_error")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        routes = {"/v1/turn": self._turn, "/v1/chat/completions": self._chat}
        route = routes.get(self.path.split("?")[0])
        if route is None:
            self._fail(404, f"no such endpoint: POST {self.path}", "not_found_error")
            return
        try:
            route(self._body())
        except BadRequest as exc:
            self._fail(exc.status, str(exc), exc.kind, exc.param)
        except CoachError as exc:
            self._fail(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - one line for the client; the server keeps serving
            self._fail(500, f"the coach failed: {type(exc).__name__}: {exc}", "server_error")

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
        if length <= 0:
            raise BadRequest("the request has no body; send a JSON object")
        if length > MAX_BODY:
            raise BadRequest(f"the body is {length} bytes; the limit is {MAX_BODY}", status=413)
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON ({exc})") from None

    def _turn(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            raise BadRequest("send {\"message\": \"...\", \"session\": \"optional id\"}", param="message")
        session = body.get("session")
        if session is not None and not isinstance(session, str):
            raise BadRequest("session must be a string", param="session")
        self._send(200, self.server.run_turn(session, body["message"]))

    def _chat(self, body: Any) -> None:
        session, message, stream = read_request(body)
        model = self.server.model_name
        if not stream:
            self._send(200, completion(self.server.run_turn(session, message), model))
            return
        from agent.core.types import CoachTurn

        writer = ChunkWriter(model)
        with self.server.turn_lock:
            pieces = self.server.coach.stream_turn(session, message)
            first = next(pieces)  # a bad message fails here, before any header is sent: a plain JSON error
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(writer.first())
            try:
                for piece in itertools.chain([first], pieces):
                    if isinstance(piece, CoachTurn):
                        self.server.turns += 1
                        self.wfile.write(writer.last(piece.model_dump(mode="json")))
                    else:
                        self.wfile.write(writer.text(piece))
                    self.wfile.flush()
            except CoachError as exc:
                self.wfile.write(f"data: {json.dumps(error_body(str(exc)))}\n\n".encode() + b"data: [DONE]\n\n")


def serve(settings: Any, host: str = "127.0.0.1", port: int = 8765, ready: Any = None) -> None:
    """Warm up, publish serve.json, and answer until interrupted; serve.json is removed on the way out."""
    server = CoachServer(settings, host, port)
    if threading.current_thread() is threading.main_thread():
        import signal

        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(0)  # SIGTERM: leave through `finally`, so serve.json goes too

        signal.signal(signal.SIGTERM, stop)
    try:
        server.warm()
        server.publish()
        if ready is not None:
            ready(server)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.unpublish()
        server.server_close()
        server.coach.close()
