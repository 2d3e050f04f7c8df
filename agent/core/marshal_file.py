"""Plain data (dicts, lists, strings, numbers) kept in marshal files: read in milliseconds, written atomically."""

from __future__ import annotations

import marshal
import os
import tempfile
from pathlib import Path
from typing import Any


def read(path: Path) -> Any:
    """The file's value, or None when it is missing or damaged (a cache is then simply rebuilt)."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def write(path: Path, value: Any) -> bool:
    """Store `value`; False when it cannot be marshalled or the folder is not writable (callers carry on)."""
    try:
        blob = marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
        return True
    except (OSError, ValueError):
        return False
