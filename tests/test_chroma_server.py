"""The same index behaviours as the embedded tests, against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agent.index import Index
from agent.retrieval import HybridSearcher
from agent.settings import load_settings
from tests.conftest import require
from tests.index_cases import CASES, FEEDBACK, run_case, upsert

pytestmark = [pytest.mark.slow, pytest.mark.server]

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A Chroma server for the whole session; yields its URL and is killed at the end."""
    if not CHROMA.exists():
        require(False, f"chroma command not found at {CHROMA}")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"chroma server did not start: {(data / 'server.log').read_text()[-500:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def server_settings(chroma_server, monkeypatch):
    monkeypatch.setenv("COACH_CHROMA_URL", chroma_server)
    return load_settings()


@pytest.mark.parametrize("case", sorted(CASES))
def test_server_index(case, server_settings, tmp_path, monkeypatch):
    run_case(case, server_settings, tmp_path / "index", monkeypatch)


def test_two_index_folders_share_one_server_without_mixing(server_settings, tmp_path):
    a, b = Index.open(server_settings, tmp_path / "a"), Index.open(server_settings, tmp_path / "b")
    a.apply(upsert("feedback.md", FEEDBACK))
    b.apply(upsert("other.md", ["Nothing about feedback here, only budgets."]))
    b.apply(upsert("other.md", ["Budgets again."], version="v2"))
    b.apply(upsert("other.md", ["Budgets once more."], version="v3"))  # GC in b must spare a's collection
    hits = HybridSearcher(a, server_settings).search("timely feedback", k=2)
    assert [h.chunk.source for h in hits] == ["feedback.md", "feedback.md"]
    assert a.namespace != b.namespace
    assert not (tmp_path / "a" / "chroma").exists()  # vectors live on the server, not in the folder
