"""Benchmark helpers: phases in subprocesses (per-phase peak RSS), percentiles, machine info."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ms_stats(seconds: list[float]) -> dict[str, float]:
    arr = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "n": int(arr.size),
    }


def machine() -> dict[str, Any]:
    """Enough context to read the numbers: CPUs and the load other processes put on them during the run."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def run_phase(script: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `script --phase ...` in a fresh interpreter and return the JSON object on its last stdout line."""
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"phase {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def emit(obj: dict[str, Any], compact: bool = False) -> None:
    """Print the one JSON object (compact on one line when a parent process reads it)."""
    print(json.dumps(obj) if compact else json.dumps(obj, indent=1))
