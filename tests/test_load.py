"""A short run of benchmarks/bench_load.py: 8 concurrent sessions, as threads and as processes, on one store."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_concurrent_sessions_lose_no_turn_and_never_hit_a_lock(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_load.py"), "--seconds", "15", "--workers", "8",
         "--embedder", "hash", "--modes", "threads,processes", "--home", str(tmp_path / "home")],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=380, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    for mode in ("threads", "processes"):
        run = result[mode]
        assert run["workers"] == 8 and run["turns"] >= 8, json.dumps(run)
        assert run["lock_errors"] == 0 and run["other_errors"] == 0, run["error_samples"]
        assert run["lost_turns"] == 0 and run["phantom_turns"] == 0 and run["sessions_with_half_turns"] == 0
    assert result["doctor"]["healthy"], result["doctor"]["problems"]
