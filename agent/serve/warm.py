"""Load the turn's models in parallel threads (embedder, token counter, rules, safety and coach hooks)."""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import threading
import time
from collections.abc import Callable
from typing import Any

# Optional warm hooks of other rooms: called when the module exists (they may land later), each in its own thread.
HOOKS = ("agent.coach.nlp", "agent.safety.detector")  # longest load first: it is the critical path


def _hook(module: str) -> Callable[[], Any] | None:
    """module.warm, when the module exists and has one."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except (ImportError, ValueError):
        return None
    return getattr(importlib.import_module(module), "warm", None)


def _embedder(settings: Any) -> None:
    from agent.index.embeddings import get_embedder

    load = getattr(get_embedder(settings), "load", None)
    if load is not None:
        load()


def _tokens() -> None:
    from agent.core.tokens import encoding

    encoding()


def _rules() -> None:
    from agent.safety.guard import check_input

    check_input("warm up")  # compiles or loads the rules once, in the background


def _run(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - a warm-up that fails is retried, and reported, by the real call
        pass


def start(settings: Any, parts: tuple[str, ...] = ("embedder", "tokens", "hooks", "rules")) -> list[threading.Thread]:
    """Start warm-up threads for `parts` (daemons: a quick exit never waits for them); returns them."""
    jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    if "hooks" in parts:
        jobs += [(lambda m=module: (_hook(m) or (lambda: None))(), ()) for module in HOOKS]
    if "embedder" in parts:
        jobs.append((_embedder, (settings,)))
    if "tokens" in parts:
        jobs.append((_tokens, ()))
    if "rules" in parts:
        jobs.append((_rules, ()))
    threads = [threading.Thread(target=_run, args=(fn, *args), daemon=True, name=f"warm-{n}")
               for n, (fn, args) in enumerate(jobs)]
    for t in threads:
        t.start()
    # A daemon thread still inside a native model load when the interpreter tears down aborts the whole process
    # ("terminate called without an active exception", exit 134), after the reply was printed: let it finish first.
    atexit.register(settle, threads)
    return threads


def settle(threads: list[threading.Thread], timeout: float = 30.0) -> None:
    """Wait, at most `timeout` seconds in all, for warm-up threads to finish."""
    end = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
