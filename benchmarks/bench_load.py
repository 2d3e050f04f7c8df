"""Load: concurrent sessions on one store and one index (threads in one process, then processes); prints JSON.

Usage: python benchmarks/bench_load.py [--seconds 120] [--workers 20] [--embedder minilm|hash] [--modes ...]
Offline engine. Each worker keeps one session and counts the turns it saw succeed; afterwards the store is
audited: lost turns (a worker saw it succeed, the store lacks it), phantom turns (the reverse), half-recorded
turns and "database is locked" errors, all of which must be 0. The baseline is one session, no concurrency,
measured in the same run. `coach doctor` runs on the result and its verdict and time are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _util import ROOT, emit, machine, ms_stats

MESSAGES = [
    "Since my promotion my old teammates stopped asking me for help.",
    "I want them to bring problems to me early, not after a deadline slips.",
    "In meetings I notice I answer before anyone else has spoken.",
    "My peer who runs operations keeps moving our shared deadlines.",
    "I think she feels I went around her last quarter.",
    "Maybe I could ask her what a good handoff looks like from her side.",
    "I'll ask for twenty minutes with her by Friday and listen first.",
    "I'll know it worked if the next deadline change comes to me before it happens.",
]
LOCKED = "database is locked"


@dataclass
class WorkerResult:
    """What one worker believes: its session, the turns it saw recorded, latencies and errors."""

    session: str
    believed: int = 0
    latencies: list[float] = field(default_factory=list)
    lock_errors: int = 0
    errors: list[str] = field(default_factory=list)


def settings_for(home: Path, embedder: str) -> Any:
    from agent.core.settings import load_settings

    return load_settings(home=home, embedder=embedder, provider="offline")


def one_turn(coach: Any, result: WorkerResult, message: str, timed: bool = True) -> None:
    started = time.perf_counter()
    try:
        coach.turn(result.session, message)
    except Exception as exc:  # noqa: BLE001 - every failure is counted, and a lock error separately
        text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]
        if LOCKED in text.lower():
            result.lock_errors += 1
        else:
            result.errors.append(text)
        return
    result.believed += 1
    if timed:
        result.latencies.append(time.perf_counter() - started)


def run_session(coach: Any, result: WorkerResult, seconds: float, offset: int = 0) -> None:
    """Turns on one session until `seconds` have passed (the last one finishes)."""
    deadline = time.monotonic() + seconds
    n = offset
    while time.monotonic() < deadline:
        one_turn(coach, result, f"{MESSAGES[n % len(MESSAGES)]} ({n})")
        n += 1


def audit(settings: Any, results: list[WorkerResult]) -> dict[str, int]:
    """Compare each worker's belief with the store: lost, phantom and half-recorded turns."""
    from agent.store.memory import open_store

    store = open_store(settings)
    lost = phantom = half = 0
    try:
        for r in results:
            stored = store.get_session(r.session).n_turns
            lost += max(0, r.believed - stored)
            phantom += max(0, stored - r.believed)
            history = store.history(r.session)
            roles_ok = [m.role for m in history] == ["user", "coach"] * stored
            half += 0 if roles_ok and all(m.turn for m in history[1::2]) else 1
    finally:
        store.close()
    return {"lost_turns": lost, "phantom_turns": phantom, "sessions_with_half_turns": half}


def summary(mode: str, results: list[WorkerResult], wall: float, settings: Any) -> dict[str, Any]:
    lat = [x for r in results for x in r.latencies]
    errors = [e for r in results for e in r.errors]
    turns = sum(r.believed for r in results)
    return {
        "mode": mode,
        "workers": len(results),
        "seconds": round(wall, 2),
        "turns": turns,
        "turns_per_s": round(turns / wall, 2) if wall else 0.0,
        "lock_errors": sum(r.lock_errors for r in results),
        "other_errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        **audit(settings, results),
        "latency": ms_stats(lat) if lat else {},
    }


def mode_threads(settings: Any, workers: int, seconds: float, name: str) -> dict[str, Any]:
    """`workers` threads sharing one Coach (one store, one searcher), as the Streamlit app shares it."""
    from agent.coach.pipeline import Coach

    coach = Coach(settings)
    results = [WorkerResult(coach.new_session(f"{name} {i}")) for i in range(workers)]
    for r in results:  # warm-up: loads the guard model and the index before the clock starts
        one_turn(coach, r, MESSAGES[0], timed=False)
    barrier = threading.Barrier(workers + 1)

    def go(r: WorkerResult, i: int) -> None:
        barrier.wait()
        run_session(coach, r, seconds, offset=i)

    threads = [threading.Thread(target=go, args=(r, i)) for i, r in enumerate(results)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    coach.close()
    return summary(name, results, wall, settings)


def worker_main(home: Path, embedder: str, seconds: float, offset: int) -> None:
    """A worker process: warm up, say ready, wait for go on stdin, run, print its WorkerResult as JSON."""
    from agent.coach.pipeline import Coach

    coach = Coach(settings_for(home, embedder))
    result = WorkerResult(coach.new_session(f"process {offset}"))
    one_turn(coach, result, MESSAGES[0], timed=False)
    print("ready", flush=True)
    sys.stdin.readline()
    run_session(coach, result, seconds, offset=offset)
    coach.close()
    print(json.dumps(asdict(result)), flush=True)


def mode_processes(settings: Any, workers: int, seconds: float, embedder: str) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--home", str(settings.home),
           "--embedder", embedder, "--seconds", str(seconds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([*cmd, "--offset", str(i)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env) for i in range(workers)]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"worker {p.pid} failed to start (exit {p.wait()})")
        started = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [WorkerResult(**json.loads(p.stdout.readline())) for p in procs]
        wall = time.perf_counter() - started
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
    return summary("processes", results, wall, settings)


def doctor(settings: Any) -> dict[str, Any]:
    from agent.store.doctor import run_doctor

    report = run_doctor(settings)
    return {"healthy": report.healthy, "seconds": round(report.seconds, 3),
            "problems": [c.line() for c in report.checks if c.status == "problem"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="load duration per concurrent mode")
    ap.add_argument("--baseline-seconds", type=float, default=None, help="default: a quarter of --seconds")
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--embedder", choices=("minilm", "hash"), default="minilm")
    ap.add_argument("--modes", default="baseline,threads,processes")
    ap.add_argument("--home", type=Path, default=None, help="COACH_HOME to use (default: a temp dir, removed after)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_main(args.home, args.embedder, args.seconds, args.offset)
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="coach-load-"))
    settings = settings_for(home, args.embedder)
    from agent.ingest.bundled import open_searcher

    t0 = time.perf_counter()
    open_searcher(settings)  # indexes the bundled corpus once, before any worker starts
    out: dict[str, Any] = {"benchmark": "load", "machine": machine(), "embedder": args.embedder,
                           "index_seconds": round(time.perf_counter() - t0, 2)}
    modes = args.modes.split(",")
    if "baseline" in modes:
        out["baseline"] = mode_threads(settings, 1, args.baseline_seconds or max(5.0, args.seconds / 4), "baseline")
    if "threads" in modes:
        out["threads"] = mode_threads(settings, args.workers, args.seconds, "threads")
    if "processes" in modes:
        out["processes"] = mode_processes(settings, args.workers, args.seconds, args.embedder)
    out["doctor"] = doctor(settings)
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    emit(out)


if __name__ == "__main__":
    main()
