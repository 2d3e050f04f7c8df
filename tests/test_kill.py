"""kill -9 in the middle of a turn, an export or an ingest: afterwards the store and index are whole and
`coach doctor` says so (after --repair where a killed ingest left leftovers)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.core.errors import SessionNotFound
from agent.core.settings import load_settings
from agent.core.types import Citation, CoachTurn, Commitment
from agent.index.generations import Index
from agent.store.doctor import run_doctor
from agent.store.memory import open_store
from tests.coach_helpers import home_with_corpus
from tests.conftest import ROOT
from tests.test_ingest_kill import _big_folder, _coach, _kill_while_indexing

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# A child that takes turns on one session forever, printing each turn's number once it has returned.
TURN_LOOP = """
import sys
from agent.coach.pipeline import Coach
coach = Coach()
sid = sys.argv[1]
messages = ["My team waits for me to decide everything.", "I want them to own the small calls.",
            "Yesterday I overruled a choice they had already made.", "I'll ask them to decide the next one."]
print("ready", flush=True)
n = 0
while True:
    coach.turn(sid, f"{messages[n % len(messages)]} ({n})")
    n += 1
    print(n, flush=True)
"""


# A child that takes the first turn of a new session and kills itself once the session id is allocated: before
# the turn's transaction ("allocated"), or inside it, right after the coach reply is inserted ("in_transaction").
FIRST_TURN_KILL = """
import os, signal, sys
from agent.coach.pipeline import Coach
point = sys.argv[1]
coach = Coach()
store = coach.store
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
allocate, ids = store.new_session_id, []

def new_id():
    ids.append(allocate())
    print(ids[-1], flush=True)
    return ids[-1]

store.new_session_id = new_id
if point == "allocated":
    store.record_turn = die
else:
    execute = store.db.execute

    def killing(conn, statement, params=()):
        cursor = execute(conn, statement, params)
        if statement.startswith("INSERT INTO messages") and "coach" in params:
            seen = execute(conn, "SELECT n_turns FROM sessions WHERE id = ?", (ids[-1],)).fetchall()
            print("written", seen, flush=True)  # the session row and turn exist, uncommitted
            die()
        return cursor

    store.db.execute = killing
coach.turn(None, "My team waits for me to decide everything. I'll ask them to own the next call by Friday.")
print("survived", flush=True)
"""


def assert_healthy(settings, repair: bool = False) -> None:
    report = run_doctor(settings, repair=repair)
    assert report.healthy, [c.line() for c in report.checks if c.status == "problem"]


def assert_whole_turns(store, sid: str) -> int:
    """Every stored turn is a user message followed by its coach reply with a full CoachTurn."""
    n = store.get_session(sid).n_turns
    history = store.history(sid)
    assert [m.role for m in history] == ["user", "coach"] * n
    assert all(m.turn is not None and m.turn.reply == m.text for m in history[1::2])
    return n


def test_sigkill_during_turns_loses_nothing_it_reported(coach_home):
    settings = home_with_corpus(coach_home)
    store = open_store(settings)
    sid = store.create_session("kill me")
    store.close()
    rng = random.Random(int(time.time()))
    reported = 0
    for round_ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", TURN_LOOP, sid], cwd=ROOT, env=dict(os.environ),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-800:]
        first = int(proc.stdout.readline())  # one turn done: the kill lands among turns, not in start-up
        time.sleep(rng.uniform(0.0, 1.5))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        reported += max([first] + [int(x) for x in out.split() if x.isdigit()])
        store = open_store(settings)
        stored = assert_whole_turns(store, sid)
        store.close()
        # Turns the child reported are stored; at most one more per kill (committed, not yet printed).
        assert reported <= stored <= reported + round_ + 1, (reported, stored)
        assert_healthy(settings)
    cli = subprocess.run([*_coach(), "doctor", "--json"], cwd=ROOT, env=dict(os.environ), capture_output=True,
                         text=True, timeout=120, check=False)
    assert cli.returncode == 0 and json.loads(cli.stdout)["healthy"], cli.stdout + cli.stderr


@pytest.mark.parametrize("point", ["allocated", "in_transaction"])
def test_sigkill_between_session_id_and_first_commit_leaves_no_session(coach_home, point):
    settings = home_with_corpus(coach_home)
    proc = subprocess.run([sys.executable, "-c", FIRST_TURN_KILL, point], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr[-800:]
    lines = proc.stdout.splitlines()
    sid = lines[0]
    assert lines[1:] == ([] if point == "allocated" else ["written [(1,)]"])
    store = open_store(settings)
    with pytest.raises(SessionNotFound):
        store.get_session(sid)
    assert store.list_sessions() == [] and store.db.query("SELECT COUNT(*) FROM messages") == [(0,)]
    report = run_doctor(settings)
    turns = next(c for c in report.checks if c.name == "store.turns")
    assert report.healthy and turns.detail.startswith("0 sessions, 0 turns"), turns.line()
    fresh = store.new_session_id()  # the store is unlocked and takes a whole first turn afterwards
    store.record_turn(fresh, "hello again", CoachTurn(reply="Welcome back."), new=True)
    assert [s.id for s in store.list_sessions()] == [fresh]
    store.close()


def _large_session(settings, turns: int = 3000) -> str:
    store = open_store(settings)
    sid = store.create_session("A long one")
    body = "We talked about the handoff again and what each of us expects from it. " * 40
    cit = Citation(source="n.md", title="Notes", chunk=1, text="A handoff is a promise to the next person.")
    for n in range(turns):
        store.record_turn(sid, f"{n}: {body}", CoachTurn(
            reply=f"{n}: {body}", questions=["What would a clean handoff look like?"], citations=[cit],
            commitment=Commitment(what=f"write checklist {n}") if n % 50 == 0 else None))
    store.close()
    return sid


def _export(sid: str, out: Path, fmt: str, nice: int = 0) -> subprocess.Popen:
    """`coach sessions export`; niced so that on a busy machine the watcher still sees it mid-write."""
    return subprocess.Popen(["nice", "-n", str(nice), *_coach(), "sessions", "export", sid, "--format", fmt,
                             "--out", str(out)], cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_sigkill_during_export_leaves_no_partial_file(coach_home, tmp_path):
    settings = load_settings()
    sid = _large_session(settings)
    full = {}
    for fmt in ("md", "json"):
        ref = tmp_path / f"ref.{fmt}"
        started = time.monotonic()
        assert _export(sid, ref, fmt).wait(timeout=120) == 0
        full[fmt] = (ref.read_bytes(), time.monotonic() - started)
    assert len(full["md"][0]) > 8_000_000

    # 1. Killed the moment its temp file appears, i.e. while the export is being written.
    out = tmp_path / "out" / "session.md"
    out.parent.mkdir()
    caught = False
    for _ in range(5):
        proc = _export(sid, out, "md", nice=19)
        deadline = time.monotonic() + 120
        temps: list[Path] = []
        while proc.poll() is None and time.monotonic() < deadline and not temps:
            temps = list(out.parent.glob(".session.md.*.tmp"))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert not out.exists() or out.read_bytes() == full["md"][0]
        left = list(out.parent.glob(".session.md.*.tmp"))
        if proc.returncode == -signal.SIGKILL and not out.exists() and left:
            # The kill landed mid-write: the half-written bytes never took the real name.
            assert all(len(t.read_bytes()) < len(full["md"][0]) for t in left)
            caught = True
            break
    assert caught, "five exports finished before the kill could land"

    # 2. Killed at random moments over an export's run time, over an older export: old or new, never half.
    rng = random.Random(int(time.time()))
    for fmt in ("md", "json", "md", "json"):
        target = tmp_path / f"again.{fmt}"
        target.write_text("an older export\n")
        proc = _export(sid, target, fmt)
        time.sleep(rng.uniform(0.3, 1.0) * full[fmt][1])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert target.read_bytes() in (b"an older export\n", full[fmt][0])
    store = open_store(settings)
    assert assert_whole_turns(store, sid) == 3000
    store.close()
    assert_healthy(settings)


def test_doctor_repairs_what_a_killed_ingest_left(coach_home, tmp_path):
    settings = home_with_corpus(coach_home)
    before = Index.open(settings)
    current, count = before.current_name(), before.count()
    bulk = tmp_path / "bulk"
    _big_folder(bulk, files=120)
    _kill_while_indexing([*_coach(), "ingest", str(bulk)], dict(os.environ))

    report = run_doctor(settings)
    status = {c.name: c for c in report.checks}
    assert status["index.current"].status == "ok" and current in status["index.current"].detail
    assert status["index.chroma"].status == "ok" and status["index.query"].status == "ok"
    assert status["index.leftovers"].status == "problem" and "Chroma collections" in status["index.leftovers"].detail
    cli = subprocess.run([*_coach(), "doctor"], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
                         timeout=120, check=False)
    assert cli.returncode == 1 and "problem   index.leftovers" in cli.stdout
    fixed = subprocess.run([*_coach(), "doctor", "--repair"], cwd=ROOT, env=dict(os.environ),
                           capture_output=True, text=True, timeout=120, check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "repaired  index.leftovers" in fixed.stdout
    assert_healthy(settings)
    after = Index.open(settings)
    assert after.current_name() == current and after.count() == count
