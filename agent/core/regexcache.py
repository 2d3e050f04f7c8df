"""Compiled regular expressions kept on disk: large rule sets load in milliseconds instead of compiling for 0.3 s."""

from __future__ import annotations

import hashlib
import re
import sys
import threading
from pathlib import Path
from typing import Any

from agent.core import marshal_file

try:  # the engine's own compiler; if a Python moves it, every pattern simply compiles the ordinary way
    import _sre
    from re import _compiler, _parser
except ImportError:  # pragma: no cover - not CPython
    _sre = None  # type: ignore[assignment]

# sre's bytecode is private and changes between Python versions, so a cache is valid for one build only.
ENGINE = (sys.implementation.name, sys.version_info[:2], getattr(_sre, "MAGIC", 0), getattr(_sre, "CODESIZE", 0))
Args = tuple[str, int, list[int], int, dict[str, int], tuple[Any, ...]]


def _compile_args(pattern: str, flags: int) -> Args:
    """What re.compile hands to _sre.compile (Python 3.11-3.13), computed the way re._compiler does."""
    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[Any] = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # int(): opcodes are int subclasses and flags an enum, which marshal cannot store.
    return (pattern, int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1, groupindex,
            tuple(indexgroup))


class RegexCache:
    """Patterns compiled once per machine: `compile` reads the file's bytecode, `save` writes what was new."""

    def __init__(self, path: Path | None, name: str, sources: list[str]) -> None:
        digest = hashlib.sha256(repr((ENGINE, sources)).encode("utf-8")).hexdigest()[:16]
        self.path = path / f"{name}-{digest}.marshal" if path is not None else None
        self._entries: dict[tuple[str, int], Args] = {}
        self._new = False
        self._lock = threading.Lock()
        if self.path is not None and _sre is not None:
            data = marshal_file.read(self.path)  # missing or damaged: None, and everything compiles afresh
            if isinstance(data, dict) and data.get("engine") == list(ENGINE) and isinstance(data.get("entries"), dict):
                self._entries = data["entries"]

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        """re.compile(pattern, flags), from the cached bytecode when there is one."""
        if _sre is None:
            return re.compile(pattern, flags)
        flags = int(flags)  # a RegexFlag key would not marshal
        args = self._entries.get((pattern, flags))
        if args is not None:
            try:
                return _sre.compile(*args)
            except (TypeError, ValueError, RuntimeError):  # bytecode the engine rejects: compile it properly
                pass
        try:
            args = _compile_args(pattern, flags)
            compiled = _sre.compile(*args)
        except (AttributeError, TypeError):  # an engine whose private API differs
            return re.compile(pattern, flags)
        with self._lock:
            self._entries[(pattern, flags)] = args
            self._new = True
        return compiled

    def save(self) -> None:
        """Write the cache when something was compiled afresh; an unwritable place is silently skipped."""
        if not self._new or self.path is None:
            return
        if marshal_file.write(self.path, {"engine": list(ENGINE), "entries": self._entries}):
            self._new = False
