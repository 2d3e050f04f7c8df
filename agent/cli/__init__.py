"""The `coach` command line."""

from agent.cli.main import app, main

__all__ = ["app", "main"]
