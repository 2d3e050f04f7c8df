"""A throwaway PostgreSQL server (initdb in /tmp, 127.0.0.1, trust auth) for the store's postgres tests.

Use it with `from tests.conftest_pg import pg_server, pg_url  # noqa: F401`; `pg_url` is a fresh database per test.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import require

_proc: subprocess.Popen | None = None
_dir: str | None = None


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_user() -> dict:
    """initdb refuses to run as root, so a root test run starts the server as the postgres user."""
    if os.geteuid() != 0:
        return {}
    import pwd

    pw = pwd.getpwnam("postgres")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _stop() -> None:
    global _proc, _dir
    if _proc is not None and _proc.poll() is None:
        _proc.send_signal(signal.SIGKILL)
        _proc.wait(timeout=10)
    if _dir:
        shutil.rmtree(_dir, ignore_errors=True)
    _proc, _dir = None, None


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a running server (database 'postgres'); started once per run."""
    global _proc, _dir
    bindir = _bindir()
    require(bindir is not None, "PostgreSQL server binaries (initdb) not found")
    try:
        import psycopg
    except ImportError:
        require(False, "psycopg is not installed ([postgres] extra)")
    user = _as_user()
    _dir = tempfile.mkdtemp(prefix="coach-pg-")
    if user:
        os.chown(_dir, user["user"], user["group"])
    atexit.register(_stop)
    data = os.path.join(_dir, "data")
    subprocess.run([str(bindir / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
                   check=True, capture_output=True, cwd=_dir, **user)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _proc = subprocess.Popen([str(bindir / "postgres"), "-D", data, "-p", str(port), "-k", _dir,
                              "-h", "127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
                              "-c", "synchronous_commit=off"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=_dir, **user)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline or _proc.poll() is not None:
                _stop()
                raise RuntimeError("PostgreSQL did not start")  # noqa: B904 (kept as is)
            time.sleep(0.2)
    yield url
    _stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty database for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield pg_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
