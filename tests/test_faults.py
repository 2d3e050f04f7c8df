"""Provider faults over real HTTP: a scripted OpenAI-compatible server on 127.0.0.1 and the real ChatOpenAI client."""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.llm_engine import LLMEngine
from agent.core.errors import ProviderError
from agent.core.settings import load_settings
from agent.providers.factory import build_chat_model
from agent.providers.retry import RetryPolicy
from tests.fakes import VALID_REPLY

pytestmark = pytest.mark.timeout(30)


def completion(request: dict) -> dict:
    """A chat.completion answering with the coach JSON: as a tool call when tools were offered, else as text."""
    message: dict = {"role": "assistant", "content": json.dumps(VALID_REPLY)}
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(VALID_REPLY)}}]}
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class FaultServer:
    """Serves /v1/chat/completions from a script of faults, then succeeds; records when each request came."""

    def __init__(self, script: list[tuple] = ()):
        self.reset(script)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                outer.times.append(time.monotonic())
                outer.bodies.append(body)
                step = outer.script.pop(0) if outer.script else ("ok",)
                kind = step[0]
                if kind == "sleep":
                    time.sleep(step[1])
                    return self._send(200, completion(body))
                if kind == "status":
                    headers = step[2] if len(step) > 2 else {}
                    return self._send(step[1], {"error": {"message": f"scripted {step[1]}", "type": "x"}}, headers)
                if kind == "malformed":
                    return self._raw(200, b'{"id": "c1", "choices": [ {"index": 0, "mess')
                if kind == "stream":
                    return self._stream(body)
                return self._send(200, completion(body))

            def _send(self, code, data, headers=None):
                self._raw(code, json.dumps(data).encode(), headers)

            def _raw(self, code, payload, headers=None):
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case): that is the point of the test

            def _stream(self, body):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                text = json.dumps(VALID_REPLY)
                for i in range(0, len(text), 9):
                    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                             "choices": [{"index": 0, "delta": {"content": text[i:i + 9]}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def reset(self, script: list[tuple]) -> FaultServer:
        self.script = list(script)
        self.times: list[float] = []
        self.bodies: list[dict] = []
        return self

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:])]


@pytest.fixture(scope="module")
def server():
    with FaultServer() as srv:
        yield srv


@functools.lru_cache(maxsize=8)
def _client(port: int, timeout: float):
    """One ChatOpenAI per (port, timeout): building its HTTP client costs ~0.7 s, which the tests need not repeat."""
    return build_chat_model(_settings(port, 2, timeout))


def _settings(port: int, retries: int, timeout: float):
    return load_settings(provider="openai-compatible", base_url=f"http://127.0.0.1:{port}/v1", timeout=timeout,
                         max_retries=retries, model="fake", max_tokens=64)


def engine_for(port: int, retries: int = 2, timeout: float = 1.0) -> LLMEngine:
    policy = RetryPolicy(max_retries=retries, base_delay=0.05, max_delay=0.2, max_retry_after=2.0)
    return LLMEngine(_client(port, timeout), _settings(port, retries, timeout), retry_policy=policy)


INP = EngineInput(message="My peer keeps missing our handoffs.")


def assert_valid(out: EngineOutput) -> None:
    assert out.reply and out.phase == "reality" and len(out.questions) == 1


def test_success_after_two_server_errors_returns_a_valid_output(server):
    srv = server.reset([("status", 500), ("status", 503)])
    engine = engine_for(srv.port)
    assert_valid(engine.respond(INP))
    assert len(srv.times) == 3
    assert len(engine.policy.waits) == 2 and all(0.025 <= w <= 0.1 for w in engine.policy.waits)
    assert srv.bodies[0]["max_tokens"] == 64 and "max_completion_tokens" not in srv.bodies[0]


def test_rate_limit_honours_retry_after(server):
    srv = server.reset([("status", 429, {"Retry-After": "1"})])
    assert_valid(engine_for(srv.port).respond(INP))
    assert len(srv.times) == 2
    assert 0.95 <= srv.gaps[0] < 1.8


def test_timeouts_are_retried_then_reported_in_one_line(server):
    srv = server.reset([("sleep", 1.5), ("sleep", 1.5)])
    engine = engine_for(srv.port, retries=1, timeout=0.5)
    with pytest.raises(ProviderError) as info:
        engine.respond(INP)
    message = str(info.value)
    assert message == "provider openai-compatible failed after 2 tries: timed out"
    assert len(srv.times) == 2


def test_malformed_body_is_retried(server):
    srv = server.reset([("malformed",)])
    assert_valid(engine_for(srv.port).respond(INP))
    assert len(srv.times) == 2


def test_client_errors_are_not_retried(server):
    srv = server.reset([("status", 401), ("status", 401)])
    engine = engine_for(srv.port, retries=3)
    engine._tools = None  # plain JSON mode, so the 4xx is final rather than a tool-mode fallback
    with pytest.raises(ProviderError, match=r"after 1 try: request rejected \(HTTP 401\)") as info:
        engine.respond(INP)
    assert len(srv.times) == 1 and "\n" not in str(info.value)


def test_rejected_tool_calls_fall_back_to_plain_json(server):
    srv = server.reset([("status", 400)])
    out = engine_for(srv.port).respond(INP)
    assert_valid(out)
    assert "tools" in srv.bodies[0] and "tools" not in srv.bodies[1]


def test_connection_refused_gives_up_after_the_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = engine_for(port, retries=2)
    with pytest.raises(ProviderError, match=r"^provider openai-compatible failed after 3 tries: cannot connect"):
        engine.respond(INP)
    assert len(engine.policy.waits) == 2


def test_stream_retries_before_the_first_token_then_streams_the_reply(server):
    srv = server.reset([("status", 503), ("stream",)])
    engine = engine_for(srv.port)
    engine._tools = None
    items = list(engine.stream(INP))
    deltas, final = items[:-1], items[-1]
    assert len(srv.times) == 2 and srv.bodies[1]["stream"] is True
    assert isinstance(final, EngineOutput) and "".join(deltas) == final.reply
    assert len(deltas) > 3


def test_stream_falls_back_to_plain_json_when_tools_are_rejected(server):
    srv = server.reset([("status", 400), ("stream",)])
    items = list(engine_for(srv.port).stream(INP))
    assert "tools" in srv.bodies[0] and "tools" not in srv.bodies[1]
    assert "".join(items[:-1]) == items[-1].reply and items[-1].phase == "reality"
