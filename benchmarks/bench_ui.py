"""`coach ui` cold: seconds to a healthy server and to the first chat reply, beside a minimal Streamlit chat app.

Usage: .venv/bin/python benchmarks/bench_ui.py [--runs 3]
- coach: the command `coach ui` runs (agent.cli.ui_cmd.streamlit_command) on a free loopback port, with a fresh
  COACH_HOME each run (the real MiniLM embedder, the offline coach), this checkout's code on PYTHONPATH.
- baseline: the same `streamlit run` flags on a five-line chat app that echoes the message (Streamlit's own
  start and round trip), measured in the same run, interleaved with the coach's runs.
- health_s: process start to 200 from /_stcore/health; reply_s: Enter in the chat box to the reply's text in
  the page (Playwright driving Debian's chromium, headless). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, emit, machine

CHROMIUM = "/usr/bin/chromium"
MESSAGE = "My peer in finance keeps blocking my budget requests."
BASELINE_APP = """import streamlit as st
st.title("baseline")
if msg := st.chat_input("Say something"):
    st.chat_message("user").write(msg)
    st.chat_message("assistant").write("You said: " + msg)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(app: Path | None, port: int) -> list[str]:
    from agent.cli.ui_cmd import streamlit_command

    cmd = streamlit_command(port)
    if app is not None:
        cmd[cmd.index("run") + 1] = str(app)
    return cmd


def one_run(app: Path | None, home: Path, browser) -> dict[str, float]:
    """Start the server, time health, then time the first reply in a fresh page; stop the server."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_HOME=str(home), COACH_EMBEDDER="minilm", COACH_PROVIDER="offline", PYTHONPATH=str(ROOT),
               PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "bench_cli_pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    home.mkdir(parents=True)
    log = open(home / "streamlit.log", "wb")  # noqa: SIM115 - closed in finally
    started = time.perf_counter()
    proc = subprocess.Popen(command(app, port), cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - started > 90:
                raise SystemExit(f"streamlit did not start:\n{(home / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.05)
        health = time.perf_counter() - started
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        box.wait_for()
        page_ready = time.perf_counter() - started
        box.fill(MESSAGE)
        sent = time.perf_counter()
        box.press("Enter")
        reply = page.get_by_test_id("stChatMessage").nth(1)
        reply.wait_for()
        page.wait_for_function("el => el.innerText.trim().length > 20", arg=reply.element_handle())
        reply_s = time.perf_counter() - sent
        page.close()
        return {"health_s": health, "page_ready_s": page_ready, "reply_s": reply_s}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def summary(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {key: {"median_s": round(statistics.median(r[key] for r in runs), 3),
                  "max_s": round(max(r[key] for r in runs), 3), "n": len(runs)} for key in runs[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    coach, base = [], []
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp, sync_playwright() as p:
        app = Path(tmp) / "baseline_app.py"
        app.write_text(BASELINE_APP, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])
        one_run(None, Path(tmp) / "warmup", browser)  # bytecode and page cache for both, as after an install
        for n in range(args.runs):
            base.append(one_run(app, Path(tmp) / f"base{n}", browser))
            coach.append(one_run(None, Path(tmp) / f"coach{n}", browser))
        browser.close()
    c, b = summary(coach), summary(base)
    emit({
        "benchmark": "coach ui, cold (fresh COACH_HOME each run)",
        "message": MESSAGE,
        "coach": c,
        "baseline_minimal_streamlit_chat": b,
        "health_minus_baseline_s": round(c["health_s"]["median_s"] - b["health_s"]["median_s"], 3),
        "reply_minus_baseline_s": round(c["reply_s"]["median_s"] - b["reply_s"]["median_s"], 3),
        "goals": {"health_le_5s": c["health_s"]["max_s"] <= 5.0, "reply_le_1_5s": c["reply_s"]["max_s"] <= 1.5},
        "loadavg_1m_before": round(load_before, 2),
        "machine": machine(),
    })


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
