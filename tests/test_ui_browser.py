"""The UI in a real browser: `streamlit run` on 127.0.0.1, driven by Playwright on Debian's chromium."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, require
from tests.ui_samples import PEER_MESSAGE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots"
XSS = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
XSS_NOTE = f"# Zebra crossings\n\nzebracrossing zebracrossing {XSS}\n"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(CHROMIUM.is_file(), "chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_home(home: Path) -> None:
    """Index the bundled notes plus one note with markup in it; add two peers and an eval report to open."""
    from agent.core.settings import load_settings
    from agent.ingest.pipeline import ingest_paths
    from agent.store.memory import PeerRecord, open_store
    from tests.ui_samples import index_with_peer_note, sample_report

    settings = load_settings(home=home, embedder="hash")
    index_with_peer_note(settings, home)
    note = home / "zebra.md"
    note.write_text(XSS_NOTE, encoding="utf-8")
    assert ingest_paths([note], settings).ok
    store = open_store(settings)
    lee = PeerRecord(name="Lee", role="Head of Finance", vital=4, frequency=4, quality=4, trust=5, stance="sponsor")
    sam = PeerRecord(name="Sam", role="Product lead", vital=5, frequency=2, quality=2, trust=2,
                     stance="anti-sponsor", notes="Felt left out of the roadmap review.")
    store.add_peer(lee)
    store.add_peer(sam)
    store.close()
    report = home / "reports" / "demo" / "report.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps(sample_report()), encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run ui/app.py` on a free local port with its own COACH_HOME; stopped afterwards."""
    home = tmp_path_factory.mktemp("ui-home")
    _prepare_home(home)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_HOME=str(home), COACH_EMBEDDER="hash")
    log = open(home / "streamlit.log", "wb")  # noqa: SIM115 - the server outlives this block; closed below
    from agent.cli.ui_cmd import streamlit_command

    # The very command `coach ui` runs, so the test covers its flags too.
    proc = subprocess.Popen(streamlit_command(port), cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (home / "streamlit.log").read_text()[-2000:]
                raise AssertionError(f"streamlit did not start:\n{tail}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def problems(page):
    """Console errors and uncaught page errors seen while the test drove the page."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    page.on("dialog", lambda dialog: (seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return seen


def _no_live_markup(page) -> None:
    """Nothing from documents or models became live HTML."""
    assert page.locator("script:text('alert')").count() == 0
    assert page.locator("img[onerror]").count() == 0


def _go(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()


def _shot(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so grow the viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.wait_for_timeout(500)  # let charts finish drawing
    height = page.evaluate("() => document.querySelector('.stMain').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 3000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def test_every_page_in_the_browser(server, page, problems, tmp_path):
    page.set_default_timeout(60_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(server)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    box.fill(PEER_MESSAGE)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(1)
    citation = reply.get_by_test_id("stExpander").first
    citation.wait_for()
    citation.locator("summary").click()
    mark = citation.locator("mark").first
    mark.wait_for()
    assert mark.inner_text().strip()
    assert "GROW phase" in reply.inner_text()
    _shot(page, "chat")

    _go(page, "Library")
    search = page.get_by_label("Search the notes")
    search.fill("sponsors and anti-sponsors among peers")
    search.press("Enter")
    page.get_by_text("score 0.").first.wait_for()
    _shot(page, "library")
    search.fill("zebracrossing")
    search.press("Enter")
    page.get_by_text("Zebra crossings").first.wait_for()
    assert (
        "onerror=alert(2)" in page.get_by_test_id("stMain").inner_text()
    )  # the note's markup, shown as text
    _no_live_markup(page)

    _go(page, "Peer map")
    page.get_by_text("Add a peer").click()
    page.get_by_label("Name").first.fill("Dana")
    page.get_by_label("Role").first.fill("Head of Sales")
    page.get_by_role("button", name="Add peer").click()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.get_by_role("button", name="Draft conversation openers").click()
    page.get_by_test_id("stCode").first.wait_for()
    _shot(page, "peer_map")

    _go(page, "Session prep")
    brief = page.get_by_label("Brief (Markdown)")
    brief.wait_for()
    assert "Priya" in brief.input_value() and "## Themes" in brief.input_value()
    page.get_by_text("Strip names, e-mail addresses and phone numbers").click()
    page.wait_for_function(
        "() => !document.querySelector('textarea[aria-label=\"Brief (Markdown)\"]')?.value.includes('Priya')"
    )
    with page.expect_download() as md:
        page.get_by_role("button", name="Download Markdown").click()
    text = Path(md.value.path()).read_text(encoding="utf-8")
    assert "## Commitments" in text and "Priya" not in text
    with page.expect_download() as pdf:
        page.get_by_role("button", name="Download PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    _shot(page, "session_prep")

    _go(page, "Evals")
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.get_by_text("miss their threshold").wait_for()
    _shot(page, "evals")
    assert problems == []


def test_phone_width_has_no_horizontal_overflow(server, page, problems):
    page.set_default_timeout(60_000)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(server)
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for()
    assert box.is_visible()
    box.fill(PEER_MESSAGE)
    box.press("Enter")
    page.get_by_test_id("stChatMessage").nth(1).get_by_test_id("stExpander").first.wait_for()
    _fits_phone(page)
    _shot(page, "chat_mobile")
    box.fill(f"What does the zebracrossing note say? {XSS}")
    box.press("Enter")
    page.get_by_test_id("stChatMessage").nth(3).wait_for()
    assert (
        "<script>" in page.get_by_test_id("stChatMessage").nth(2).inner_text()
    )  # the user's markup, as text
    for summary in page.get_by_test_id("stChatMessage").nth(3).locator("summary").all():
        summary.click()
    _no_live_markup(page)
    _fits_phone(page)
    assert problems == []


def _fits_phone(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375 + 2, f"page is {width}px wide at a 375px viewport"
    assert page.get_by_test_id("stChatInputTextArea").is_visible()
