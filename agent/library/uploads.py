"""Uploaded files saved under a folder with safe names: no paths, no traversal, no hidden or device names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from agent.core.errors import IngestError

UPLOAD_TYPES = ("md", "markdown", "txt", "html", "htm", "pdf")
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)


def safe_name(raw: str, fallback: str = "upload") -> str:
    """The last path component of an upload's name, reduced to word characters, dots, dashes and spaces."""
    name = unicodedata.normalize("NFKC", raw or "").replace("\x00", "")
    name = re.split(r"[\\/]", name)[-1]  # both separators: a Windows path must not become a folder here
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"\.{2,}", ".", name)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[:120].strip(" ._") or fallback
    return f"{stem}.{ext[:10]}" if ext else stem


def save_uploads(files: Iterable[tuple[str, bytes]], folder: Path) -> list[Path]:
    """Write (name, bytes) pairs into `folder` under safe, distinct names; returns the paths written."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for raw, data in files:
        name = safe_name(raw)
        stem, dot, ext = name.rpartition(".")
        base, n = (stem, ext) if dot else (name, ""), 1
        while name.lower() in used:
            n += 1
            name = f"{base[0]}-{n}.{base[1]}" if base[1] else f"{base[0]}-{n}"
        used.add(name.lower())
        target = (folder / name).resolve()
        if target.parent != folder:  # belt and braces: safe_name already removed separators
            raise IngestError(f"{raw}: unsafe file name")
        target.write_bytes(data)
        written.append(target)
    return written
