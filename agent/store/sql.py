"""The store's SQL: portable schema and migrations, and one connection per thread for SQLite or PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.core.errors import ConfigError

# Each migration is a list of statements; {pk} and {json} are filled in per dialect, so the SQL stays portable.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL, n_turns INTEGER NOT NULL DEFAULT 0, phase TEXT NOT NULL DEFAULT 'goal',
            situation TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE messages (
            id {pk}, session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, turn_json {json},
            created_at TEXT NOT NULL, UNIQUE (session_id, seq))""",
        """CREATE TABLE citations (
            id {pk}, message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            source TEXT NOT NULL, title TEXT NOT NULL, chunk INTEGER NOT NULL, text TEXT NOT NULL,
            link TEXT NOT NULL DEFAULT '', start_char INTEGER NOT NULL DEFAULT 0,
            end_char INTEGER NOT NULL DEFAULT 0)""",
        """CREATE TABLE commitments (
            id {pk}, session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            message_id BIGINT REFERENCES messages(id) ON DELETE SET NULL,
            what TEXT NOT NULL, by_when TEXT NOT NULL DEFAULT '', measure TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        """CREATE TABLE peers (
            id {pk}, name TEXT NOT NULL, role TEXT NOT NULL DEFAULT '', vital INTEGER NOT NULL DEFAULT 3,
            frequency INTEGER NOT NULL DEFAULT 3, quality INTEGER NOT NULL DEFAULT 3,
            trust INTEGER NOT NULL DEFAULT 3, stance TEXT NOT NULL DEFAULT 'neutral',
            notes TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        """CREATE TABLE model_calls (
            id {pk}, at TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, prompt_hash TEXT NOT NULL,
            request_json {json}, response_text TEXT NOT NULL DEFAULT '', ms INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX messages_by_session ON messages (session_id, seq)",
        "CREATE INDEX commitments_by_status ON commitments (status, created_at)",
        "CREATE INDEX citations_by_message ON citations (message_id)",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)


class Backend:
    """What differs between databases: connecting, placeholders, DDL types, the schema version, busy errors."""

    name = "base"
    pk = ""
    json = "TEXT"

    def connect(self) -> Any:
        raise NotImplementedError

    def sql(self, statement: str) -> str:
        return statement

    def transaction(self, conn: Any) -> Any:
        raise NotImplementedError

    def get_version(self, conn: Any) -> int:
        raise NotImplementedError

    def set_version(self, conn: Any, version: int) -> None:
        raise NotImplementedError


class SQLiteBackend(Backend):
    """SQLite in WAL mode with a 10 s busy timeout; writers take the lock up front (BEGIN IMMEDIATE)."""

    name = "sqlite"
    pk = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path: Path):
        self.path = path

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN ourselves, so a transaction is exactly what `transaction()` spans.
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextmanager
    def transaction(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        # A deferred transaction that later upgrades to a write can fail with "database is locked" at once.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def get_version(self, conn: sqlite3.Connection) -> int:
        return conn.execute("PRAGMA user_version").fetchone()[0]

    def set_version(self, conn: sqlite3.Connection, version: int) -> None:
        conn.execute(f"PRAGMA user_version = {int(version)}")


class PostgresBackend(Backend):
    """PostgreSQL through psycopg 3; the version lives in a one-row table since there is no user_version."""

    name = "postgres"
    pk = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"

    def __init__(self, url: str):
        self.url = url

    def connect(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise ConfigError("PostgreSQL support needs the [postgres] extra: pip install 'socratic-coach[postgres]'")  # noqa: B904 (kept as is)
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot connect to PostgreSQL: {reason}") from None

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[Any]:
        with conn.transaction():
            yield conn

    def get_version(self, conn: Any) -> int:
        conn.execute("CREATE TABLE IF NOT EXISTS coach_schema (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM coach_schema").fetchone()
        return row[0] if row else 0

    def set_version(self, conn: Any, version: int) -> None:
        conn.execute("DELETE FROM coach_schema")
        conn.execute("INSERT INTO coach_schema (version) VALUES (%s)", (int(version),))


def backend_for(db_path: Path, database_url: str = "") -> Backend:
    if database_url:
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError("database_url must start with postgresql://")
        return PostgresBackend(database_url)
    return SQLiteBackend(db_path)


class Database:
    """One connection per thread, explicit transactions, and migrations applied once on open."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self.migrate()

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.backend.connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN ... COMMIT, or ROLLBACK on any error: every write is all or nothing."""
        with self.backend.transaction(self._conn()) as conn:
            yield conn

    def execute(self, conn: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        return conn.execute(self.backend.sql(statement), tuple(params))

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        """A read outside any explicit transaction (autocommit)."""
        return list(self._conn().execute(self.backend.sql(statement), tuple(params)).fetchall())

    def migrate(self) -> None:
        with self.transaction() as conn:
            current = self.backend.get_version(conn)
            if current > SCHEMA_VERSION:
                raise ConfigError(f"the database schema v{current} is newer than this program (v{SCHEMA_VERSION})")
            for steps in MIGRATIONS[current:]:
                for statement in steps:
                    conn.execute(statement.format(pk=self.backend.pk, json=self.backend.json))
            if current < SCHEMA_VERSION:
                self.backend.set_version(conn, SCHEMA_VERSION)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a connection another thread still holds is best effort
                pass
        self._local = threading.local()
