"""`coach doctor` on real indexes and stores, each damaged the way a crash or a bad disk would damage it."""

from __future__ import annotations

import fcntl
import json
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.core.settings import load_settings
from agent.core.types import Citation, CoachTurn
from agent.index.generations import Index
from agent.index.retrieval import HybridSearcher
from agent.ingest.pipeline import ingest_paths
from agent.store.doctor import run_doctor
from agent.store.memory import open_store
from tests.coach_helpers import home_with_corpus
from tests.conftest import ROOT
from tests.conftest_pg import pg_server, pg_url  # noqa: F401  (fixtures)

FIXTURES = ROOT / "tests" / "fixtures"
QUERY = "describe one concrete moment in feedback"
runner = CliRunner()


@pytest.fixture
def settings(coach_home):
    """The bundled corpus (g000001) plus the test fixtures on top (g000002), and a store with two whole turns."""
    s = home_with_corpus(coach_home)
    ingest_paths([FIXTURES], s)
    store = open_store(s)
    sid = store.create_session("Quiet team")
    for n in range(2):
        store.record_turn(sid, f"message {n}", CoachTurn(reply=f"reply {n}", questions=[f"What next {n}?"],
                          citations=[Citation(source="note.md", title="Note", chunk=0, text="x")]))
    store.close()
    return s


def statuses(report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def test_a_fresh_home_is_healthy_and_left_untouched(coach_home):
    report = run_doctor(load_settings())
    assert report.healthy and statuses(report) == {"index.current": "ok", "store": "ok"}
    assert not coach_home.exists()


def test_a_whole_index_and_store_pass_every_check(settings):
    report = run_doctor(settings)
    assert report.healthy, [c.line() for c in report.checks]
    assert set(statuses(report)) >= {"index.lock", "index.current", "index.chroma", "index.bm25", "index.query",
                                     "index.leftovers", "store.integrity", "store.foreign_keys", "store.schema",
                                     "store.turns", "store.wal"}
    assert "g000002" in report.by_name("index.current").detail
    assert "1 session, 2 turns" in report.by_name("store.turns").detail


def test_current_naming_a_missing_generation_falls_back_to_the_newest_complete_one(settings):
    (settings.index_dir / "CURRENT").write_text("g000009\n")
    report = run_doctor(settings)
    assert statuses(report)["index.current"] == "problem" and not report.healthy
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and statuses(fixed)["index.current"] == "repaired"
    assert (settings.index_dir / "CURRENT").read_text().strip() == "g000002"
    assert HybridSearcher(Index.open(settings), settings).search(QUERY, k=3)


def test_an_incomplete_current_generation_falls_back_to_its_predecessor(settings):
    (settings.index_dir / "gens" / "g000002" / "meta.json").unlink()
    assert statuses(run_doctor(settings))["index.current"] == "problem"
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy, [c.line() for c in fixed.checks]
    assert (settings.index_dir / "CURRENT").read_text().strip() == "g000001"
    assert statuses(fixed)["index.leftovers"] == "repaired"  # the broken g000002 is gone
    assert not (settings.index_dir / "gens" / "g000002").exists()
    assert "note.md" not in Index.open(settings).sources()


def test_leftovers_of_a_killed_run_are_reported_then_removed(settings):
    index = Index.open(settings)
    (index.gens / "g000007").mkdir()
    (index.gens / "g000007" / "chunks.sqlite").write_bytes(b"half")
    (settings.index_dir / "CURRENT.999999999.tmp").write_text("g000007\n")
    index.client().create_collection(index.collection_name("g000007"))
    report = run_doctor(settings)
    leftovers = report.by_name("index.leftovers")
    assert leftovers.status == "problem" and "1 generation folders, 1 Chroma collections, 1 temp files" in \
        leftovers.detail
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and statuses(fixed)["index.leftovers"] == "repaired"
    assert not (index.gens / "g000007").exists() and not list(settings.index_dir.glob("*.tmp"))
    names = {c if isinstance(c, str) else c.name for c in index.client().list_collections()}
    assert index.collection_name("g000007") not in names
    assert {"g000001", "g000002"} <= {p.name for p in index.gens.iterdir()}  # current and predecessor stay


def test_a_lost_chroma_collection_is_rebuilt_from_the_stored_vectors(settings):
    index = Index.open(settings)
    before = [(h.chunk.id, round(h.score, 6)) for h in HybridSearcher(index, settings).search(QUERY, k=4)]
    index.client().delete_collection(index.generation.collection)
    assert statuses(run_doctor(settings))["index.chroma"] == "problem"
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and statuses(fixed)["index.chroma"] == "repaired"
    fresh = Index.open(settings)
    assert fresh.client().get_collection(fresh.generation.collection).count() == fresh.count()
    after = [(h.chunk.id, round(h.score, 6)) for h in HybridSearcher(fresh, settings).search(QUERY, k=4)]
    assert after == before


def test_a_damaged_bm25_index_is_rebuilt_the_same(settings):
    index = Index.open(settings)
    gen = index.generation
    before = gen.bm25_top("feedback moment", 10)
    shutil.rmtree(gen.folder / "bm25")
    report = run_doctor(settings)
    assert statuses(report)["index.bm25"] == "problem"
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and statuses(fixed)["index.bm25"] == "repaired"
    again = Index.open(load_settings()).generation
    after = again.bm25_top("feedback moment", 10)
    assert after[0].tolist() == before[0].tolist()


def test_an_embedder_mismatch_fails_the_test_query(settings):
    report = run_doctor(settings.model_copy(update={"embedder": "minilm"}))
    query = report.by_name("index.query")
    assert query.status == "problem" and "embedder" in query.detail and "\n" not in query.detail


def test_a_running_ingest_is_not_disturbed(settings):
    (settings.index_dir / "gens" / "g000008").mkdir()  # what an ingest in progress looks like
    with open(settings.index_dir / "LOCK", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        report = run_doctor(settings, repair=True)
    assert report.healthy
    assert "ingest is writing" in report.by_name("index.lock").detail
    assert report.by_name("index.leftovers").detail.startswith("skipped")
    assert (settings.index_dir / "gens" / "g000008").exists()


def _raw(settings) -> sqlite3.Connection:
    return sqlite3.connect(settings.db_path, isolation_level=None)


def test_a_half_recorded_turn_is_reported_then_trimmed(settings):
    store = open_store(settings)
    sid = store.list_sessions()[0].id
    store.close()
    with _raw(settings) as conn:  # a user message with no coach reply, and a reply whose turn is garbage
        conn.execute("INSERT INTO messages (session_id, seq, role, text, created_at) VALUES (?, 5, 'user', 'x', 't')",
                     (sid,))
        conn.execute("UPDATE messages SET turn_json = '{broken' WHERE session_id = ? AND seq = 2", (sid,))
    turns = run_doctor(settings).by_name("store.turns")
    assert turns.status == "problem" and sid in turns.detail
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and fixed.by_name("store.turns").status == "repaired"
    store = open_store(settings)
    history = store.history(sid)
    assert [m.text for m in history] == ["message 1", "reply 1"]
    assert store.get_session(sid).n_turns == 1
    store.record_turn(sid, "after repair", CoachTurn(reply="fine"))  # the numbering still works
    assert [m.role for m in store.history(sid)] == ["user", "coach", "user", "coach"]
    store.close()
    assert run_doctor(settings).healthy


def test_dangling_rows_are_found_by_foreign_key_check_and_removed(settings):
    with _raw(settings) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("INSERT INTO citations (message_id, session_id, source, title, chunk, text) "
                     "VALUES (9999, 'nosuch', 'a.md', 'A', 0, 'x')")
    fk = run_doctor(settings).by_name("store.foreign_keys")
    assert fk.status == "problem" and "citations" in fk.detail
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and fixed.by_name("store.foreign_keys").status == "repaired"
    with _raw(settings) as conn:
        assert conn.execute("SELECT COUNT(*) FROM citations WHERE session_id = 'nosuch'").fetchone()[0] == 0


def test_a_corrupt_database_is_a_problem_repair_cannot_hide(settings):
    data = bytearray(settings.db_path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # trash the second page
    settings.db_path.write_bytes(bytes(data))
    for repair in (False, True):
        report = run_doctor(settings, repair=repair)
        assert not report.healthy and report.by_name("store.integrity").status == "problem"
        assert all("\n" not in c.detail for c in report.checks)


def test_a_newer_schema_is_a_problem(settings):
    with _raw(settings) as conn:
        conn.execute("PRAGMA user_version = 99")
    schema = run_doctor(settings, repair=True).by_name("store.schema")
    assert schema.status == "problem" and "newer" in schema.detail


def test_cli_lines_json_and_exit_codes(settings):
    (settings.index_dir / "gens" / "g000003").mkdir()
    sick = runner.invoke(app, ["doctor"])
    assert sick.exit_code == 1
    assert any(line.startswith("problem ") and "index.leftovers" in line for line in sick.output.splitlines())
    assert sick.output.rstrip().splitlines()[-1].startswith("problems found")
    fixed = runner.invoke(app, ["doctor", "--repair"])
    assert fixed.exit_code == 0 and "repaired" in fixed.output
    data = json.loads(runner.invoke(app, ["doctor", "--json"]).output)
    assert data["healthy"] is True and data["repair"] is False and data["seconds"] >= 0
    assert {c["status"] for c in data["checks"]} == {"ok"}


@pytest.mark.slow
@pytest.mark.postgres
def test_doctor_checks_turns_on_postgresql(pg_url, coach_home):  # noqa: F811
    settings = load_settings(database_url=pg_url)
    store = open_store(settings)
    sid = store.create_session()
    store.record_turn(sid, "hello", CoachTurn(reply="hi"))
    store.db.query("INSERT INTO messages (session_id, seq, role, text, created_at) "
                   "VALUES (?, 3, 'user', 'half', 't') RETURNING id", (sid,))
    store.close()
    assert run_doctor(settings).by_name("store.turns").status == "problem"
    fixed = run_doctor(settings, repair=True)
    assert fixed.healthy and fixed.by_name("store.turns").status == "repaired"
    assert "store.wal" not in statuses(fixed)
