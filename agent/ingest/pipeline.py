"""Ingest files and folders into the index: unchanged files are skipped, the rest land in one atomic apply."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.homes import expand
from agent.core.types import Chunk
from agent.ingest.chunking import chunk_document
from agent.ingest.loaders import KINDS, FileRejected, kind_of, load_bytes, read_limited, unsupported_reason

# progress(stage, done, total); stage is "read" (files) or "index" (chunks embedded and written).
Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """What one run did: source names per outcome, failures as (path, reason), and chunks written."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0

    @property
    def files(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"ingested {self.files} files ({len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged), {self.chunks} chunks; {len(self.failed)} failed"
        )


def _skipped_in_walk(name: str) -> bool:
    """Hidden files, and READMEs (they describe a folder of notes; named explicitly, they go in)."""
    return name.startswith(".") or name.lower().split(".")[0] == "readme"


def collect_files(paths: Iterable[Path | str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders recursively (no hidden, README or unsupported files); named files must be supported."""
    files: list[Path] = []
    failed: list[tuple[str, str]] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = expand(raw)
        if path.is_dir():
            found = []
            for root, dirs, names in os.walk(path):  # does not follow symlinked folders, so no cycles
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [
                    Path(root) / n
                    for n in sorted(names)
                    if not _skipped_in_walk(n) and kind_of(Path(n)) and (Path(root) / n).is_file()
                ]
            if not found:
                failed.append((str(path), f"no supported files ({', '.join(KINDS)}) in this folder"))
            for f in found:
                add(f)
        elif path.is_file():
            if kind_of(path) is None:
                failed.append((str(path), unsupported_reason(path)))
            else:
                add(path)
        elif path.exists():
            failed.append((str(path), "not a regular file or folder"))
        else:
            failed.append((str(path), "no such file or folder"))
    return files, failed


def ingest_paths(
    paths: Iterable[Path | str],
    settings: Any,
    index_path: Path | None = None,
    progress: Progress | None = None,
    *,
    index: Any = None,
) -> IngestReport:
    """Ingest `paths` into the index; a file whose bytes hash as before is skipped, the rest are one apply."""
    report = IngestReport()
    files, report.failed = collect_files(paths)
    max_bytes = int(settings.max_file_mb * 2**20)
    if index is None:
        from agent.index.generations import Index

        index = Index.open(settings, index_path)
    known = index.sources()
    upserts: dict[str, tuple[str, list[Chunk]]] = {}
    origin: dict[str, Path] = {}
    for n, path in enumerate(files, 1):
        try:
            _ingest_one(path, max_bytes, known, upserts, origin, report)
        except FileRejected as exc:
            report.failed.append((exc.path, exc.reason))
        if progress:
            progress("read", n, len(files))
    if upserts:
        total = sum(len(chunks) for _, chunks in upserts.values())
        index.apply(
            upserts,
            removals=(),
            progress=(lambda done, todo: progress("index", done, todo)) if progress else None,
        )
        report.chunks = total
    return report


def _ingest_one(
    path: Path, max_bytes: int, known: dict, upserts: dict, origin: dict[str, Path], report: IngestReport
) -> None:
    """Hash, and unless unchanged, load and chunk one file into `upserts`."""
    name = path.name
    if name in origin:
        raise FileRejected(
            path,
            f"another file named {name!r} is in this batch ({origin[name]}); sources are keyed by file name",
        )
    origin[name] = path
    data = read_limited(path, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    previous = known.get(name)
    if previous is not None and previous.sha256 == digest:
        report.unchanged.append(name)
        return
    chunks = chunk_document(load_bytes(path, data, max_bytes=max_bytes))
    if not chunks:
        raise FileRejected(path, "no text to index")
    upserts[name] = (digest, chunks)
    (report.updated if previous is not None else report.added).append(name)
