"""The `coach` command line.

Layer 9 (the top): may import anything in agent. The entry point is agent.cli:main: `coach ask` with a running
`coach serve` is answered by agent.cli.fast before typer and the commands load; everything else goes to the typer
app in agent.cli.main (also importable as agent.cli.app).
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    """The `coach` command: the fast path to a running server when it applies, else the full typer app."""
    from agent.cli.fast import try_fast

    if try_fast(sys.argv[1:]):
        _quick_exit()
    from agent.cli.main import main as full

    full()


def _quick_exit() -> None:
    """Exit once an answered `coach ask` is printed and saved, without finalising the interpreter.

    Why: freeing spaCy's, the models' and some 950 modules' objects at shutdown took 0.15 s of a 1.0 s ask.
    Exit handlers (logging's flush, the warm-up threads' settle) still run; the turn's store is already closed."""
    import atexit
    import os

    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away: Python's own exit status for it
        os._exit(120)
    os._exit(0)


def __getattr__(name: str) -> Any:
    if name == "app":
        from agent.cli.main import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
