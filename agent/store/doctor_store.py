"""Store checks for `coach doctor`: SQLite integrity and foreign keys, schema version, whole turns, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core.types import CoachTurn
from agent.store.checks import Check, ok, one_line, problem, repaired

BATCH = 1000
# Per session (no % operator: psycopg reads it as a placeholder): turns counted, messages, highest seq, user messages at odd seqs, coach messages at even seqs.
_SHAPE = ("SELECT s.id, s.n_turns, COUNT(m.id), COALESCE(MAX(m.seq), 0), "
          "COALESCE(SUM(CASE WHEN m.role = 'user' AND m.seq - (m.seq / 2) * 2 = 1 THEN 1 ELSE 0 END), 0), "
          "COALESCE(SUM(CASE WHEN m.role = 'coach' AND m.seq - (m.seq / 2) * 2 = 0 AND m.turn_json IS NOT NULL "
          "THEN 1 ELSE 0 END), 0) "
          "FROM sessions s LEFT JOIN messages m ON m.session_id = s.id GROUP BY s.id, s.n_turns")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def check_integrity(conn: sqlite3.Connection) -> Check:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows == ["ok"]:
        return ok("store.integrity", "PRAGMA integrity_check: ok")
    return problem("store.integrity", f"{len(rows)} faults, first: {rows[0]}; restore a backup or try "
                                      "`sqlite3 coach.db .recover`")


def check_foreign_keys(conn: sqlite3.Connection, fix: bool) -> Check:
    """Rows pointing at a missing parent; with fix, dangling ones are deleted (a commitment just loses its link)."""
    rows = conn.execute("PRAGMA foreign_key_check").fetchall()
    if not rows:
        return ok("store.foreign_keys", "PRAGMA foreign_key_check: ok")
    what = f"{len(rows)} rows point at missing parents (first: {rows[0][0]} row {rows[0][1]} -> {rows[0][2]})"
    if not fix:
        return problem("store.foreign_keys", f"{what}; `coach doctor --repair` removes them")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table, rowid, parent, _ in rows:
            if table == "commitments" and parent == "messages":
                conn.execute("UPDATE commitments SET message_id = NULL WHERE rowid = ?", (rowid,))
            else:
                conn.execute(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return repaired("store.foreign_keys", f"{what}; removed")


def check_schema(conn: sqlite3.Connection, fix: bool) -> Check:
    from agent.store.sql import SCHEMA_VERSION

    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return ok("store.schema", f"schema v{version}")
    if version > SCHEMA_VERSION:
        return problem("store.schema", f"schema v{version} is newer than this program (v{SCHEMA_VERSION}); upgrade")
    if not fix:
        return problem("store.schema", f"schema v{version} is older than v{SCHEMA_VERSION}; `coach doctor --repair`"
                                       " (or any coach command) migrates it")
    return repaired("store.schema", f"migrated v{version} -> v{SCHEMA_VERSION}")


def _bad_turn_json(store: Any) -> set[str]:
    """Sessions holding a coach message whose stored turn does not parse as a CoachTurn."""
    bad: set[str] = set()
    last = -1
    while True:
        rows = store.db.query("SELECT id, session_id, turn_json FROM messages WHERE role = 'coach' AND id > ? "
                              "ORDER BY id LIMIT ?", (last, BATCH))
        for _mid, sid, data in rows:
            try:
                CoachTurn.model_validate_json(data or "")
            except ValidationError:
                bad.add(sid)
        if len(rows) < BATCH:
            return bad
        last = rows[-1][0]


def _keep_whole_turns(store: Any, sid: str) -> int:
    """Delete messages that are not half of a whole (user, coach) pair, renumber the rest; returns turns kept."""
    with store.db.transaction() as c:
        rows = store.db.execute(c, "SELECT id, seq, role, turn_json FROM messages WHERE session_id = ? ORDER BY seq",
                                (sid,)).fetchall()
        keep: list[int] = []
        i = 0
        while i < len(rows):
            mid, seq, role, _ = rows[i]
            nxt = rows[i + 1] if i + 1 < len(rows) else None
            if role == "user" and nxt is not None and nxt[2] == "coach" and nxt[1] == seq + 1 and _valid(nxt[3]):
                keep += [mid, nxt[0]]
                i += 2
                continue
            store.db.execute(c, "DELETE FROM messages WHERE id = ?", (mid,))
            i += 1
        # Two passes: negative numbers first, so renumbering never collides with UNIQUE (session_id, seq).
        for n, mid in enumerate(keep, 1):
            store.db.execute(c, "UPDATE messages SET seq = ? WHERE id = ?", (-n, mid))
        store.db.execute(c, "UPDATE messages SET seq = -seq WHERE session_id = ?", (sid,))
        store.db.execute(c, "UPDATE sessions SET n_turns = ? WHERE id = ?", (len(keep) // 2, sid))
    return len(keep) // 2


def _valid(data: str | None) -> bool:
    try:
        CoachTurn.model_validate_json(data or "")
    except ValidationError:
        return False
    return True


def check_turns(store: Any, fix: bool) -> Check:
    """Every session's messages are whole turns: user at seq 2k-1, coach reply at 2k, n_turns pairs in all."""
    rows = store.db.query(_SHAPE)
    broken = {sid for sid, n, count, top, users, coaches in rows
              if not (count == top == 2 * n and users == coaches == n)}
    broken |= _bad_turn_json(store)
    turns = sum(r[1] for r in rows)
    empty = sum(1 for r in rows if r[1] == 0)
    summary = f"{_n(len(rows), 'session')}, {_n(turns, 'turn')}" + (f" ({empty} without turns)" if empty else "")
    if not broken:
        return ok("store.turns", f"{summary}, every turn whole")
    first = min(broken)
    if not fix:
        return problem("store.turns", f"{len(broken)} sessions have half-recorded or unnumbered turns (first: "
                                      f"{first}); `coach doctor --repair` keeps only the whole ones")
    kept = {sid: _keep_whole_turns(store, sid) for sid in sorted(broken)}
    return repaired("store.turns", f"{len(broken)} sessions trimmed to their whole turns "
                                   f"({sum(kept.values())} turns kept)")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def check_wal(path: Path, fix: bool) -> Check:
    """Fold the write-ahead log back into the database (TRUNCATE with --repair, PASSIVE otherwise)."""
    wal = path.with_name(path.name + "-wal")
    size = wal.stat().st_size if wal.exists() else 0
    conn = _connect(path)
    try:
        mode = "TRUNCATE" if fix else "PASSIVE"
        busy, frames, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    except sqlite3.Error as exc:
        return problem("store.wal", f"checkpoint failed: {one_line(exc)}")
    finally:
        conn.close()
    if frames < 0:
        return ok("store.wal", "not in WAL mode")
    note = "; other connections are busy, the rest follows later" if busy or done < frames else ""
    return ok("store.wal", f"WAL {size / 2**20:.1f} MB, {max(done, 0)}/{frames} frames checkpointed ({mode}){note}")


def check_store(settings: Any, repair: bool) -> list[Check]:
    """SQLite file checks first (a damaged file stops there), then the turn shape through the store itself."""
    from agent.store.memory import open_store

    checks: list[Check] = []
    path = settings.db_path
    if settings.database_url:
        checks.append(ok("store.integrity", "PostgreSQL: pages and foreign keys are the server's to check"))
    else:
        if not path.is_file():
            return [ok("store", f"no database yet at {path}")]
        try:
            conn = _connect(path)
            try:
                checks.append(check_integrity(conn))
                if checks[-1].status == "problem":
                    return checks
                checks.append(check_foreign_keys(conn, repair))
                checks.append(check_schema(conn, repair))
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            return checks + [problem("store.integrity", f"{path} is not a readable SQLite database: "
                                                        f"{one_line(exc)}")]
        if checks[-1].status == "problem":
            return checks
    try:
        store = open_store(settings)
    except Exception as exc:  # noqa: BLE001 - whatever stops the store opening is the problem to report
        return checks + [problem("store", f"cannot open the store: {one_line(exc)}")]
    try:
        checks.append(check_turns(store, repair))
    finally:
        store.close()
    if not settings.database_url:
        checks.append(check_wal(path, repair))
    return checks
