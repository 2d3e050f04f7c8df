"""The session store on real SQLite: atomic turns, concurrency, commitments, peers, logging and export."""

from __future__ import annotations

import json
import socket
import sqlite3
import sys
import threading

import pytest

from agent.core.errors import ConfigError, SessionNotFound
from agent.core.settings import load_settings
from agent.core.types import Citation, CoachTurn, Commitment, Opener, Safety
from agent.store.memory import NotFound, PeerRecord, Store, open_store, redact
from agent.store.sql import SCHEMA_VERSION
from tests.conftest_pg import pg_server, pg_url  # noqa: F401  (fixtures)

BACKENDS = ["sqlite", pytest.param("postgres", marks=[pytest.mark.slow, pytest.mark.postgres])]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    """The same tests on SQLite and on PostgreSQL."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    s = open_store(load_settings(home=tmp_path / "h", database_url=url))
    yield s
    s.close()


def turn(reply="I hear that the deadline feels heavy.", q="What would make it lighter?", **kw) -> CoachTurn:
    return CoachTurn(reply=reply, questions=[q] if q else [], **kw)


CIT = Citation(source="a.md", title="On ownership", chunk=2, text="Owning my part changes the conversation.",
               start=10, end=50)


def test_new_database_is_migrated_in_wal_mode(tmp_path):
    open_store(load_settings(home=tmp_path / "h")).close()
    conn = sqlite3.connect(tmp_path / "h" / "coach.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "messages", "citations", "commitments", "peers", "model_calls"} <= tables


def test_reopening_keeps_data_and_does_not_remigrate(tmp_path):
    settings = load_settings(home=tmp_path / "h")
    first = open_store(settings)
    sid = first.create_session("kept")
    first.close()
    again = open_store(settings)
    assert again.get_session(sid).title == "kept"
    again.close()


def test_newer_schema_is_refused(tmp_path):
    settings = load_settings(home=tmp_path / "h")
    open_store(settings).close()
    sqlite3.connect(settings.db_path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer than this program"):
        open_store(settings)


@pytest.mark.parametrize("call", [
    lambda s: s.get_session("nope"), lambda s: s.history("nope"), lambda s: s.delete_session("nope"),
    lambda s: s.record_turn("nope", "hi", turn()), lambda s: s.export("nope"), lambda s: s.asked_questions("nope"),
])
def test_unknown_session_is_one_line_session_not_found(store, call):
    with pytest.raises(SessionNotFound) as info:
        call(store)
    assert "'nope'" in str(info.value) and "\n" not in str(info.value)


def test_record_turn_round_trips_everything(store):
    sid = store.create_session()
    full = turn(citations=[CIT], openers=[Opener(text="I want to own my part.", why="It lowers defences.")],
                safety=Safety(category="ok"), phase="options", situation="peer",
                commitment=Commitment(what="Talk to Sam", by_when="Friday", measure="we agreed a next step"))
    store.record_turn(sid, "My peer Sam ignores my emails and I am tired of it", full)
    info = store.get_session(sid)
    assert (info.n_turns, info.phase) == (1, "options")
    assert info.title == "My peer Sam ignores my emails and I am tired of it"
    hist = store.history(sid)
    assert [(m.role, m.text) for m in hist] == [("user", "My peer Sam ignores my emails and I am tired of it"),
                                               ("coach", full.reply)]
    assert hist[0].turn is None
    assert hist[1].turn.citations == [CIT] and hist[1].turn.session == sid
    assert hist[1].turn.openers[0].why == "It lowers defences."
    [cm] = store.commitments(sid)
    assert (cm.what, cm.by_when, cm.measure, cm.status) == ("Talk to Sam", "Friday", "we agreed a next step", "open")


def test_asked_questions_are_in_order_without_duplicates(store):
    sid = store.create_session()
    for q in ["What matters?", "How would you know?", "What matters?", None]:
        store.record_turn(sid, "m", turn(q=q))
    assert store.asked_questions(sid) == ["What matters?", "How would you know?"]


def fail_citation_inserts(store, monkeypatch):
    """Make the store's citation INSERT fail mid-transaction (undo with monkeypatch.undo())."""
    real = store.db.execute

    def boom(conn, statement, params=()):
        if statement.startswith("INSERT INTO citations"):
            raise RuntimeError("disk on fire")
        return real(conn, statement, params)

    monkeypatch.setattr(store.db, "execute", boom)


def test_failed_write_leaves_nothing_half_written(store, monkeypatch):
    sid = store.create_session("t")
    store.record_turn(sid, "first", turn())
    fail_citation_inserts(store, monkeypatch)
    with pytest.raises(RuntimeError):
        store.record_turn(sid, "second", turn(citations=[CIT], commitment=Commitment(what="x")))
    monkeypatch.undo()
    assert store.get_session(sid).n_turns == 1
    assert [m.text for m in store.history(sid)] == ["first", turn().reply]
    assert store.commitments(sid, status=None) == []
    store.record_turn(sid, "third", turn())  # the connection is usable again
    assert store.get_session(sid).n_turns == 2


def test_a_first_turn_stores_its_session_with_it_or_not_at_all(store, monkeypatch):
    sid = store.new_session_id()
    with pytest.raises(SessionNotFound):
        store.get_session(sid)  # an id alone is not a session
    fail_citation_inserts(store, monkeypatch)
    with pytest.raises(RuntimeError):
        store.record_turn(sid, "Sam ignores my emails", turn(citations=[CIT]), new=True)
    monkeypatch.undo()
    assert store.list_sessions() == [] and store.db.query("SELECT COUNT(*) FROM messages") == [(0,)]
    store.record_turn(sid, "Sam ignores my emails", turn(citations=[CIT]), new=True)
    info = store.get_session(sid)
    assert (info.n_turns, info.title) == (1, "Sam ignores my emails")
    assert [m.role for m in store.history(sid)] == ["user", "coach"]
    with pytest.raises(Exception) as info:
        store.record_turn(sid, "again", turn(), new=True)  # an id in use is not started twice
    assert "IntegrityError" in {c.__name__ for c in type(info.value).__mro__}
    assert store.get_session(sid).n_turns == 1


def test_eight_threads_writing_at_once_lose_nothing(store):
    sids = [store.create_session(f"s{i}") for i in range(8)]
    errors: list[BaseException] = []

    def work(sid: str) -> None:
        try:
            for i in range(50):
                store.record_turn(sid, f"message {i}", turn(q=f"Question {i}?", citations=[CIT]))
                if i % 10 == 0:
                    store.list_sessions()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(sid,)) for sid in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    for sid in sids:
        assert store.get_session(sid).n_turns == 50
        hist = store.history(sid)
        assert [m.text for m in hist if m.role == "user"] == [f"message {i}" for i in range(50)]
    assert len(store.db.query("SELECT id FROM citations")) == 400


def test_turns_into_one_session_from_many_threads_get_distinct_seq(store):
    sid = store.create_session()
    threads = [threading.Thread(target=lambda: [store.record_turn(sid, "m", turn()) for _ in range(10)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert store.get_session(sid).n_turns == 40 and len(store.history(sid)) == 80


def test_sessions_list_newest_first_and_delete_cascades(store):
    a, b = store.create_session("a"), store.create_session("b")
    store.record_turn(a, "hi", turn(citations=[CIT], commitment=Commitment(what="x")))
    assert [s.id for s in store.list_sessions()] == [a, b]
    assert [s.id for s in store.list_sessions(limit=1)] == [a]
    store.delete_session(a)
    assert [s.id for s in store.list_sessions()] == [b]
    assert store.db.query("SELECT count(*) FROM messages")[0][0] == 0
    assert store.db.query("SELECT count(*) FROM citations")[0][0] == 0
    assert store.commitments(status=None) == []


def test_commitments_by_status_and_last_open(store):
    a, b = store.create_session(), store.create_session()
    store.record_turn(a, "m", turn(commitment=Commitment(what="first")))
    store.record_turn(b, "m", turn(commitment=Commitment(what="second")))
    store.record_turn(b, "m", turn(commitment=Commitment(what="  ")))  # blank: not a commitment
    assert [c.what for c in store.commitments()] == ["first", "second"]
    assert store.last_open_commitment().what == "second"
    assert store.last_open_commitment(exclude_session=b).what == "first"
    first = store.commitments(a)[0]
    store.set_commitment_status(first.id, "done")
    assert [c.what for c in store.commitments()] == ["second"]
    assert [c.status for c in store.commitments(status=None)] == ["done", "open"]
    assert store.last_open_commitment(exclude_session=b) is None
    with pytest.raises(ConfigError, match="status must be one of"):
        store.set_commitment_status(first.id, "finished")
    with pytest.raises(NotFound, match="no commitment 999"):
        store.set_commitment_status(999, "done")


def test_peers_crud_and_validation(store):
    pid = store.add_peer(PeerRecord(name="Sam", role="peer PM", vital=5, stance="anti-sponsor"))
    store.add_peer(PeerRecord(name="Ana", vital=2))
    assert [p.name for p in store.list_peers()] == ["Sam", "Ana"]
    assert store.update_peer(pid, trust=4, notes="better").trust == 4
    assert store.get_peer(pid).notes == "better"
    with pytest.raises(ConfigError, match="trust"):
        store.update_peer(pid, trust=9)
    with pytest.raises(ConfigError, match="unknown peer field"):
        store.update_peer(pid, mood="x")
    store.delete_peer(pid)
    with pytest.raises(NotFound):
        store.delete_peer(pid)
    assert [p.name for p in store.list_peers()] == ["Ana"]


def test_log_call_never_keeps_keys(store):
    req = json.dumps({"messages": ["hi"], "api_key": "sk-abcdefghijklmnop1234", "headers": {"Authorization": "Bearer x"}})
    store.log_call("openai", "gpt", "abc123", req, "reply sk-proj-ABCDEFGHIJKLMNOP", 42)
    [call] = store.model_calls()
    assert "sk-abcdef" not in call["request_json"] and "sk-proj" not in call["response_text"]
    assert "Bearer x" not in call["request_json"] and '"hi"' in call["request_json"]
    assert (call["provider"], call["prompt_hash"], call["ms"]) == ("openai", "abc123", 42)
    assert redact("nothing secret here") == "nothing secret here"


def test_export_markdown_and_json(store):
    sid = store.create_session("Talking to Sam")
    store.record_turn(sid, "Sam ignores me", turn(citations=[CIT], openers=[Opener(text="I may have", why="owning")],
                                                  commitment=Commitment(what="Ask Sam for coffee", by_when="Friday")))
    md = store.export(sid, "markdown")
    assert md.startswith("# Talking to Sam\n")
    assert "## You\n\nSam ignores me" in md and "What would make it lighter?" in md
    assert '- [1] On ownership (a.md, chunk 2): "Owning my part' in md
    assert "- [ ] Ask Sam for coffee by Friday (open" in md and "1. I may have" in md
    data = json.loads(store.export(sid, "json"))
    assert data["session"]["id"] == sid and len(data["messages"]) == 2
    assert data["messages"][1]["turn"]["citations"][0]["chunk"] == 2
    assert data["commitments"][0]["by_when"] == "Friday"
    with pytest.raises(ConfigError, match="unknown export format"):
        store.export(sid, "pdf")


def test_postgres_url_needs_the_right_scheme(tmp_path):
    with pytest.raises(ConfigError, match="postgresql://"):
        open_store(load_settings(home=tmp_path, database_url="mysql://x"))


def test_store_type_is_exported():
    assert Store.record_turn.__doc__


def test_postgres_without_psycopg_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigError, match=r"needs the \[postgres\] extra"):
        open_store(load_settings(home=tmp_path, database_url="postgresql://u@127.0.0.1:1/db"))


def test_unreachable_postgres_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match="cannot connect to PostgreSQL") as info:
        open_store(load_settings(home=tmp_path, database_url=f"postgresql://u@127.0.0.1:{port}/db"))
    assert "\n" not in str(info.value)
