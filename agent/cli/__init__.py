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
        return
    from agent.cli.main import main as full

    full()


def __getattr__(name: str) -> Any:
    if name == "app":
        from agent.cli.main import app

        return app
    raise AttributeError(name)


__all__ = ["app", "main"]
