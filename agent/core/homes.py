"""Where the data dir and the config file are, without pydantic: the CLI's fast path reads these too."""

from __future__ import annotations

import os
from pathlib import Path


def expand(path: str | Path) -> Path:
    """`~` and `~user` expanded; a `~user` with no home is a ConfigError (one line), not a RuntimeError."""
    try:
        return Path(path).expanduser()
    except RuntimeError as exc:
        from agent.core.errors import ConfigError

        raise ConfigError(f"bad path {str(path)!r}: {exc}") from None


def default_home() -> Path:
    """The data dir when COACH_HOME is not set: XDG data home, so nothing lands in the project."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "socratic-coach"


def config_path() -> Path:
    """COACH_CONFIG, else config.toml in COACH_HOME (or the default data dir)."""
    explicit = os.environ.get("COACH_CONFIG")
    if explicit:
        return expand(explicit)
    home = os.environ.get("COACH_HOME")
    return (expand(home) if home else default_home()) / "config.toml"


def cache_dir() -> Path | None:
    """The data dir's cache folder (COACH_HOME or the XDG default); None (COACH_CACHE=0) turns the disk caches off."""
    if os.environ.get("COACH_CACHE", "1").lower() in ("0", "false", "no", "off"):
        return None
    home = os.environ.get("COACH_HOME")
    return (expand(home) if home else default_home()) / "cache"
