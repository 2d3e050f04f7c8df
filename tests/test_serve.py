"""`coach serve`: a real server process on loopback, driven by the official openai client, raw HTTP and the CLI."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from agent.cli.fast import parse_ask
from agent.cli.main import app
from agent.serve.openai_api import BadRequest, read_request

ROOT = Path(__file__).resolve().parent.parent
COACH = [sys.executable, "-m", "agent.cli"]  # this checkout's code (the venv's `coach` script may point elsewhere)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    return {**env, "COACH_HOME": str(home), "COACH_EMBEDDER": "hash"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `coach serve --port 0` subprocess on a fresh home; yields (home, port); stopped with SIGTERM."""
    home = tmp_path_factory.mktemp("serve-home")
    proc = subprocess.Popen(COACH + ["serve", "--port", "0"], env=_env(home), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state = home / "serve.json"
    deadline = time.monotonic() + 90
    while not state.is_file():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"coach serve did not start: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    yield home, json.loads(state.read_text())["port"]
    proc.terminate()
    assert proc.wait(timeout=20) == 0
    assert not state.exists(), "serve.json must go when the server stops"


def _client(port: int) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="not-needed", max_retries=0, timeout=30)


def _raw(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    return resp.status, data


def test_the_openai_client_gets_a_socratic_reply_with_sources_and_can_continue_the_session(server):
    _, port = server
    client = _client(port)
    model = client.models.list().data[0].id
    first = client.chat.completions.create(model=model, messages=[
        {"role": "system", "content": "ignored: the coach has its own prompt"},
        {"role": "user", "content": "I was promoted to lead my old team and now they stopped asking me for help."}])
    text = first.choices[0].message.content
    assert first.choices[0].finish_reason == "stop" and "?" in text
    coach = first.model_extra["coach"]
    assert coach["phase"] and coach["safety"]["category"] == "ok"
    if coach["citations"]:  # the sources reach clients that only show the content
        assert "Sources: [1]" in text and coach["citations"][0]["title"] in text
    again = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "It has been three months."}],
                                           extra_body={"session": coach["session"]})
    assert again.model_extra["coach"]["session"] == coach["session"]


def test_streaming_sends_the_reply_in_chunks_then_stop_and_the_coach_fields(server):
    _, port = server
    stream = _client(port).chat.completions.create(
        model="socratic-coach-offline", stream=True,
        messages=[{"role": "user", "content": [{"type": "text", "text": "How do I delegate when I am faster?"}]}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert len(chunks) >= 3 and "?" in text
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["coach"]["session"]


def test_bad_requests_get_clear_json_errors(server):
    _, port = server
    client = _client(port)
    with pytest.raises(openai.BadRequestError, match="no user message"):
        client.chat.completions.create(model="m", messages=[{"role": "system", "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="empty"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "   "}])
    status, data = _raw(port, "POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and "not valid JSON" in data["error"]["message"]
    status, data = _raw(port, "POST", "/v1/turn", b'{"text": "hi"}')
    assert status == 400 and "message" in data["error"]["message"]
    status, data = _raw(port, "GET", "/v1/nothing")
    assert status == 404 and data["error"]["type"] == "not_found_error"
    status, data = _raw(port, "POST", "/v1/turn", json.dumps({"message": "hi", "session": "nope"}).encode())
    assert status == 400 and "nope" in data["error"]["message"]


def test_coach_ask_hands_its_turn_to_the_running_server(server):
    home, port = server
    before = _raw(port, "GET", "/health")[1]["turns"]
    out = subprocess.run(COACH + ["ask", "--json", "My peer in finance keeps blocking my budget."],
                         env=_env(home), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    turn = json.loads(out.stdout)
    assert turn["reply"] and turn["session"]
    assert _raw(port, "GET", "/health")[1]["turns"] == before + 1
    plain = subprocess.run(COACH + ["ask", "--session", turn["session"], "She feels left out."],
                           env=_env(home), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0 and "coach>" in plain.stdout and turn["session"] in plain.stdout
    assert _raw(port, "GET", "/health")[1]["turns"] == before + 2


def test_a_stale_serve_file_falls_back_to_the_turn_in_process(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "serve.json").write_text(json.dumps({"pid": 1, "host": "127.0.0.1", "port": 9, "provider": "offline",
                                                 "model": ""}))
    out = subprocess.run(COACH + ["ask", "--json", "My days are all meetings."], env=_env(home),
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reply"]


def test_serve_refuses_a_non_loopback_host_without_public():
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--public" in result.output


@pytest.mark.parametrize(("argv", "expected"), [
    (["ask", "hello"], ("hello", None, False)),
    (["ask", "--json", "hi", "--session", "abc"], ("hi", "abc", True)),
    (["ask", "--session=abc", "hi"], ("hi", "abc", False)),
    (["ask", "hi", "--provider", "openai"], None),
    (["ask", "--help"], None),
    (["ask"], None),
    (["chat"], None),
    (["ask", "one", "two"], None),
])
def test_only_a_plain_ask_takes_the_fast_path(argv, expected):
    assert parse_ask(argv) == expected


@pytest.mark.parametrize(("body", "why"), [
    ([], "JSON object"), ({"messages": []}, "non-empty"), ({"messages": [{"role": "user", "content": 3}]}, "string"),
    ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
])
def test_malformed_chat_requests_are_refused_with_a_reason(body, why):
    with pytest.raises(BadRequest, match=why):
        read_request(body)
