"""kill -9 in the middle of `coach ingest` leaves the previous index whole, searchable and re-runnable."""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.core.settings import load_settings
from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
VOCAB = [
    "team",
    "peer",
    "trust",
    "feedback",
    "promotion",
    "question",
    "listen",
    "delegate",
    "meeting",
    "conflict",
    "goal",
    "review",
    "sponsor",
    "ownership",
    "coaching",
    "decision",
    "priority",
    "silence",
    "agenda",
    "outcome",
    "habit",
    "career",
    "role",
    "change",
]


def _coach() -> list[str]:
    script = Path(sys.executable).parent / "coach"
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from agent.cli import main; main()"]


def _big_folder(folder: Path, files: int = 300, paragraphs: int = 8) -> None:
    rng = random.Random(7)
    folder.mkdir()
    for i in range(files):
        body = "\n\n".join(
            " ".join(" ".join(rng.choices(VOCAB, k=rng.randint(8, 16))).capitalize() + "." for _ in range(6))
            for _ in range(paragraphs)
        )
        (folder / f"bulk{i:03}.md").write_text(f"# Bulk note {i}\n\n{body}\n", encoding="utf-8")


def _stderr_lines(proc: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _kill_while_indexing(cmd: list[str], env: dict, timeout: float = 120) -> list[str]:
    """Run `cmd`, SIGKILL it as soon as it reports chunks written to the new generation; return its stderr."""
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = _stderr_lines(proc)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                break
            seen.append(line)
            match = re.match(r"indexing chunks: (\d+)/(\d+)", line)
            if match and 0 < int(match.group(1)) < int(match.group(2)):
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        if proc.poll() is None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"ingest finished before the kill: {''.join(seen)[-400:]}"
    return seen


@pytest.mark.slow
def _ingest_quietly(path, index_dir, env, *, timeout: int) -> subprocess.CompletedProcess:
    """`coach ingest PATH --index DIR --quiet` to completion."""
    return subprocess.run([*_coach(), "ingest", str(path), "--index", str(index_dir), "--quiet"], check=False,
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_sigkill_mid_ingest_keeps_previous_generation(tmp_path):
    env = dict(os.environ)  # conftest set COACH_HOME and COACH_EMBEDDER=hash for this test
    settings = load_settings()
    index_dir = tmp_path / "index"
    first = _ingest_quietly(FIXTURES, index_dir, env, timeout=120)
    assert first.returncode == 0, first.stderr
    before = Index.open(settings, index_dir)
    sources, count = before.sources(), before.count()
    assert set(sources) == {"note.md", "page.html", "prose.txt"} and count > 0

    bulk = tmp_path / "bulk"
    _big_folder(bulk)
    printed = _kill_while_indexing([*_coach(), "ingest", str(bulk), "--index", str(index_dir)], env)
    assert any(line.startswith("reading files: 300/300") for line in printed)

    after = Index.open(settings, index_dir)
    assert after.sources() == sources and after.count() == count
    assert [c.id for c in after.chunks_for("note.md")] == [c.id for c in before.chunks_for("note.md")]
    hits = HybridSearcher(after, settings).search("describe one concrete moment in feedback", k=3)
    assert hits and hits[0].chunk.source == "note.md"

    rerun = _ingest_quietly(bulk, index_dir, env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith("ingested 300 files (300 added, 0 updated, 0 unchanged)")
    final = Index.open(settings, index_dir)
    assert set(final.sources()) == set(sources) | {f"bulk{i:03}.md" for i in range(300)}
    assert HybridSearcher(final, settings).search("describe one concrete moment in feedback", k=3)
