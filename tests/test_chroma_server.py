"""The same index behaviours as the embedded tests, against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.core.settings import load_settings
from agent.index.generations import ChromaUnavailable, Index
from agent.index.retrieval import HybridSearcher
from tests.conftest import require
from tests.index_cases import CASES, FEEDBACK, PEERS, own_collections, run_case, upsert

pytestmark = [pytest.mark.slow, pytest.mark.server]

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(data: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start `chroma run` on 127.0.0.1 and wait for its heartbeat; returns the process and its URL."""
    if not CHROMA.exists():
        require(False, f"chroma command not found at {CHROMA}")
    port = port or _free_port()
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"chroma server did not start: {(data / 'server.log').read_text()[-500:]}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A Chroma server for the whole session; yields its URL and is killed at the end."""
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def own_server(tmp_path):
    """A Chroma server this test may kill; yields (process, url, data folder) and is killed at the end."""
    proc, url = start_chroma(tmp_path / "own-server")
    box = {"proc": proc}
    try:
        yield box, url, tmp_path / "own-server"
    finally:
        stop(box["proc"])


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


def test_a_server_that_dies_gives_one_line_errors_to_search_and_cli(own_server, tmp_path, monkeypatch):
    box, url, _ = own_server
    monkeypatch.setenv("COACH_CHROMA_URL", url)
    settings = load_settings()
    index = Index.open(settings, tmp_path / "index")
    index.apply(upsert("feedback.md", FEEDBACK))
    searcher = HybridSearcher(index, settings)
    assert searcher.search("timely feedback", k=1)[0].chunk.source == "feedback.md"

    stop(box["proc"])
    expected = f"Chroma server at {url} is not reachable; start it or unset COACH_CHROMA_URL"
    with pytest.raises(ChromaUnavailable) as err:
        searcher.search("timely feedback", k=1)  # a searcher that already holds the collection
    assert str(err.value) == expected
    with pytest.raises(ChromaUnavailable, match="not reachable"):
        HybridSearcher(Index.open(settings, tmp_path / "index"), settings).search("feedback", k=1)

    result = CliRunner().invoke(app, ["search", "feedback", "--index", str(tmp_path / "index")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {expected}"


def test_a_server_that_dies_mid_apply_leaves_the_old_generation_live(own_server, tmp_path, monkeypatch):
    box, url, data = own_server
    monkeypatch.setenv("COACH_CHROMA_URL", url)
    settings = load_settings()
    index = Index.open(settings, tmp_path / "index")
    first = index.apply(upsert("feedback.md", FEEDBACK))

    def die(done: int, total: int) -> None:
        if box["proc"].poll() is None:
            stop(box["proc"])  # the new collection exists; its vectors are not written yet

    with pytest.raises(ChromaUnavailable, match=f"Chroma server at {url} is not reachable"):
        index.apply(upsert("peers.md", PEERS), progress=die)
    assert index.current_name() == first
    assert sorted(p.name for p in index.gens.iterdir()) == [first]  # no half-built generation folder

    box["proc"], _ = start_chroma(data, port=int(url.rsplit(":", 1)[1]))  # same store, same address
    reopened = Index.open(settings, tmp_path / "index")
    hits = HybridSearcher(reopened, settings).search("timely feedback", k=1)
    assert hits[0].chunk.source == "feedback.md"
    reopened.apply(upsert("peers.md", PEERS))
    assert set(reopened.sources()) == {"feedback.md", "peers.md"}
    names = sorted(p.name for p in reopened.gens.iterdir())
    assert own_collections(reopened) == {
        reopened.collection_name(n) for n in names
    }  # the partial one is gone


def test_a_hung_server_times_out_with_one_line(own_server, tmp_path, monkeypatch):
    import signal

    from agent.index import chroma_link
    box, url, _ = own_server
    monkeypatch.setenv("COACH_CHROMA_URL", url)
    monkeypatch.setattr(chroma_link, "CHROMA_TIMEOUT_S", 1.0)
    settings = load_settings()
    index = Index.open(settings, tmp_path / "index")
    index.apply(upsert("feedback.md", FEEDBACK))
    searcher = HybridSearcher(Index.open(settings, tmp_path / "index"), settings)
    assert searcher.search("timely feedback", k=1)
    box["proc"].send_signal(signal.SIGSTOP)  # accepts connections, never answers
    try:
        started = time.time()
        with pytest.raises(ChromaUnavailable) as err:
            searcher.search("timely feedback", k=1)
        assert time.time() - started < 10
        assert str(err.value) == f"Chroma server at {url} did not answer within 1 s; check that it is running"
    finally:
        box["proc"].send_signal(signal.SIGCONT)
