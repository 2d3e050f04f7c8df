"""Offline turn latency over a scripted 200-turn session, by stage, with same-run baselines; prints JSON.

Usage: python benchmarks/bench_turn.py [--turns 200] [--home DIR] [--embedder minilm]
Every measured message is unique, so the query-vector cache never answers. The reported figure uses the real MiniLM embedder (the hash embedder is for tests only). A fresh temporary
COACH_HOME is indexed first unless --home points at one that already has an index.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRIPT = [
    "I just got promoted to lead my old team and now my team stopped coming to me for help.",
    "I want them to bring me the hard problems again, but as their lead, not as the fixer.",
    "Right now I answer every question in chat within minutes, usually late at night.",
    "It has been like this for about three months.",
    "Maybe I could hold office hours twice a week instead.",
    "I don't know, what should I do?",
    "I'll set up office hours by Monday and I'll know it worked if the chat goes quiet.",
    "Also, my peer in finance, Priya, keeps blocking my budget requests.",
    "I think she feels left out of the planning discussions.",
    "I'll invite Priya to the next planning meeting by Thursday.",
]
def message(i: int) -> str:
    """The i-th scripted message, made unique so no turn is served from the query-vector cache."""
    return f"{SCRIPT[i % len(SCRIPT)]} (Week {i // len(SCRIPT) + 1}, note {i}.)"


GUARD_FUNCS = ("check_input", "safe_reply", "neutralize", "make_canary", "check_output")
STORE_METHODS = ("history", "record_turn", "create_session", "last_open_commitment", "get_session",
                 "set_commitment_status")


class Clock:
    """Accumulates seconds per stage for the current turn."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}

    def timed(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.current[stage] = self.current.get(stage, 0.0) + time.perf_counter() - start
        return wrapper

    def timed_iter(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            it = fn(*args, **kwargs)
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    self.current[stage] = self.current.get(stage, 0.0) + time.perf_counter() - start
                    return
                self.current[stage] = self.current.get(stage, 0.0) + time.perf_counter() - start
                yield item
        return wrapper


class Proxy:
    """Forwards every attribute to `target`, timing the named methods."""

    def __init__(self, target: Any, clock: Clock, stage: str, methods: tuple[str, ...],
                 streaming: tuple[str, ...] = ()):
        self._target = target
        for name in methods:
            setattr(self, name, clock.timed(stage, getattr(target, name)))
        for name in streaming:
            setattr(self, name, clock.timed_iter(stage, getattr(target, name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/max in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0, "n": 0}
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2), "max_ms": round(ms[-1], 2),
            "n": len(ms)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--home", type=Path, default=None, help="COACH_HOME to use (default: a new temp dir)")
    parser.add_argument("--embedder", default="minilm", choices=("minilm", "hash"))
    parser.add_argument("--warmup", type=int, default=5)
    opts = parser.parse_args()

    import agent.safety.guard as guards
    from agent.coach.offline import OfflineEngine
    from agent.coach.pipeline import Coach
    from agent.core.settings import load_settings
    from agent.core.types import CoachTurn
    from agent.ingest.bundled import open_searcher
    from agent.store.memory import open_store

    home = opts.home or Path(tempfile.mkdtemp(prefix="coach-bench-"))
    settings = load_settings(home=home, embedder=opts.embedder, provider="offline")
    started = time.perf_counter()
    searcher = open_searcher(settings)
    setup_s = time.perf_counter() - started
    store = open_store(settings)

    clock = Clock()
    for name in GUARD_FUNCS:
        setattr(guards, name, clock.timed("guardrails", getattr(guards, name)))
    coach = Coach(settings, searcher=Proxy(searcher, clock, "retrieval", ("search",)),
                  store=Proxy(store, clock, "store", STORE_METHODS),
                  engine=Proxy(OfflineEngine(), clock, "engine", ("respond",), ("stream",)))

    warm = coach.turn(None, "Warming up: my team stopped coming to me.")
    for i in range(opts.warmup - 1):
        coach.turn(warm.session, SCRIPT[i % len(SCRIPT)])
    for _ in range(opts.warmup):
        searcher.search(SCRIPT[0], k=settings.top_k)

    stages: dict[str, list[float]] = {k: [] for k in ("guardrails", "retrieval", "engine", "store", "other")}
    totals: list[float] = []
    session = None
    for i in range(opts.turns):
        clock.current = {}
        start = time.perf_counter()
        session = coach.turn(session, message(i)).session
        total = time.perf_counter() - start
        totals.append(total)
        for stage in ("guardrails", "retrieval", "engine", "store"):
            stages[stage].append(clock.current.get(stage, 0.0))
        stages["other"].append(max(total - sum(clock.current.values()), 0.0))

    raw_search = []
    for i in range(opts.turns):
        start = time.perf_counter()
        searcher.search(message(i + opts.turns), k=settings.top_k)
        raw_search.append(time.perf_counter() - start)
    scratch = store.create_session("bench baseline")
    bare = CoachTurn(reply="A bare reply.", questions=["What next?"], phase="goal")
    raw_write = []
    for _ in range(opts.turns):
        start = time.perf_counter()
        store.record_turn(scratch, "a bare message", bare)
        raw_write.append(time.perf_counter() - start)

    turn = percentiles(totals)
    report = {
        "benchmark": "bench_turn",
        "embedder": settings.embedder,
        "turns": opts.turns,
        "index_chunks": searcher.index.count(),
        "setup_s": round(setup_s, 2),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "turn": turn,
        "stages": {k: percentiles(v) for k, v in stages.items()},
        "baseline": {"searcher.search": percentiles(raw_search), "store.record_turn": percentiles(raw_write)},
        "goal": {"p95_ms_below": 100.0, "met": turn["p95_ms"] < 100.0},
    }
    print(json.dumps(report, indent=2))
    coach.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
