"""`coach sessions` and `coach commitments` through the real typer app and a real SQLite store."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.core.settings import load_settings
from agent.core.types import Citation, CoachTurn, Commitment
from agent.store.memory import open_store

runner = CliRunner()


@pytest.fixture
def seeded(coach_home):
    store = open_store(load_settings())
    sid = store.create_session("Handoffs with Sam")
    store.record_turn(sid, "Sam keeps missing handoffs", CoachTurn(
        reply="The missed handoffs seem to cost you sleep. What would a clean handoff look like?",
        questions=["What would a clean handoff look like?"], phase="will",
        citations=[Citation(source="n.md", title="Notes", chunk=0, text="A handoff is a promise.")],
        commitment=Commitment(what="Draft a handoff checklist with Sam", by_when="Thursday", measure="Sam signs it")))
    store.close()
    return sid


def run(*args: str):
    return runner.invoke(app, list(args))


def test_list_sessions_table_and_json(seeded):
    table = run("sessions")
    assert table.exit_code == 0 and seeded in table.stdout and "Handoffs with Sam" in table.stdout
    data = json.loads(run("sessions", "--json").stdout)
    assert data[0]["id"] == seeded and data[0]["n_turns"] == 1 and data[0]["phase"] == "will"


def test_empty_list_says_how_to_start(coach_home):
    assert "No sessions yet" in run("sessions").stdout


def test_show_prints_the_transcript(seeded):
    result = run("sessions", "show", seeded)
    assert result.exit_code == 0 and "Sam keeps missing handoffs" in result.stdout and "Notes (n.md" in result.stdout


def test_unknown_session_is_one_line_exit_2(seeded):
    result = run("sessions", "show", "nope")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no session 'nope' (see `coach sessions`)"


def test_export_to_file_is_written_whole(seeded, tmp_path):
    out = tmp_path / "deep" / "s.json"
    result = run("sessions", "export", seeded, "--format", "json", "--out", str(out))
    assert result.exit_code == 0 and json.loads(out.read_text())["session"]["id"] == seeded
    assert [p.name for p in out.parent.iterdir()] == ["s.json"]
    md = run("sessions", "export", seeded)
    assert md.stdout.startswith("# Handoffs with Sam")
    bad = run("sessions", "export", seeded, "--format", "pdf")
    assert bad.exit_code == 2 and "unknown format" in bad.stderr


def test_delete_removes_the_session(seeded):
    assert run("sessions", "delete", seeded, "--yes").exit_code == 0
    assert run("sessions", "--json").stdout.strip() == "[]"
    assert run("sessions", "delete", seeded, "--yes").exit_code == 2


def test_commitments_list_done_and_all(seeded):
    listed = run("commitments")
    assert listed.exit_code == 0 and "#1 Draft a handoff checklist with Sam (by Thursday)" in listed.stdout
    assert run("commitments", "done", "1").stdout.strip() == "commitment #1 marked done"
    assert "No open commitments." in run("commitments").stdout
    data = json.loads(run("commitments", "--all", "--json").stdout)
    assert data[0]["status"] == "done" and data[0]["session"] == seeded
    missing = run("commitments", "done", "42")
    assert missing.exit_code == 2 and "no commitment 42" in missing.stderr


def test_export_sweeps_stale_temp_files_from_a_killed_export(tmp_path):
    import os
    import time

    from agent.cli.sessions_cmd import write_atomic

    stale = tmp_path / ".brief.md.abc123.tmp"
    stale.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".brief.md.def456.tmp"
    fresh.write_text("another export in flight")
    write_atomic(tmp_path / "brief.md", "whole")
    assert (tmp_path / "brief.md").read_text() == "whole"
    assert not stale.exists() and fresh.exists()
