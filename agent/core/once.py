"""A process-wide object built on first use under a lock; a failure is remembered and logged once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoadOnce(Generic[T]):
    """Builds `build()` once; if it raises, keeps None and the error's first line, and logs `unavailable` once."""

    def __init__(self, build: Callable[[], T], unavailable: str, log: logging.Logger) -> None:
        self._build, self._unavailable, self._log = build, unavailable, log
        self._lock = threading.Lock()
        self.value: T | None = None
        self.error = ""

    def get(self) -> T | None:
        if self.value is not None or self.error:
            return self.value
        with self._lock:
            if self.value is None and not self.error:
                try:
                    self.value = self._build()
                except Exception as exc:  # noqa: BLE001 - a missing model must leave the callers' fallback in charge
                    first = str(exc).splitlines()[0] if str(exc) else ""
                    self.error = f"{type(exc).__name__}: {first}"
                    self._log.warning(self._unavailable, self.error)
        return self.value

    def status(self) -> str:
        """"on", "off (<why>)" or "not loaded", without loading anything."""
        if self.value is not None:
            return "on"
        return f"off ({self.error})" if self.error else "not loaded"
