"""The `coach` command line.

Layer 7 (the top): may import anything in agent. The one eager import: the entry point is agent.cli:app, and the
function main must shadow the submodule of the same name. cli.main itself imports the commands lazily.
"""

from agent.cli.main import app, main

__all__ = ["app", "main"]
