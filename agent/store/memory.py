"""The session store: sessions, turns, citations, commitments, peers and model calls, in SQLite (or PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from agent.core.errors import CoachError, ConfigError, SessionNotFound
from agent.core.types import CoachTurn
from agent.store.records import (  # noqa: F401 (the record types are re-exported)
    STATUSES,
    CommitmentRecord,
    PeerRecord,
    SessionInfo,
    Status,
    StoredMessage,
)
from agent.store.sql import Database, backend_for

_SECRET = re.compile(r"(sk-[A-Za-z0-9_\-]{12,}|(?i:\"?(?:api[_-]?key|authorization|x-api-key)\"?\s*[:=]\s*)\"?[^\s\",}]+)")


class NotFound(CoachError):
    """An unknown commitment or peer id."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def redact(text: str) -> str:
    """Blank out anything shaped like an API key, so logged requests never hold one."""
    return _SECRET.sub("[redacted]", text)


_PEER_FIELDS = ("name", "role", "vital", "frequency", "quality", "trust", "stance", "notes")
_COMMITMENT_COLS = "id, session_id, what, by_when, measure, status, created_at"


class Store:
    """Every method is one transaction on a per-thread connection; safe to share across threads."""

    def __init__(self, db: Database):
        self.db = db

    def close(self) -> None:
        self.db.close()

    # -- sessions -------------------------------------------------------------------------------------------
    @staticmethod
    def new_session_id() -> str:
        """An id for a session that record_turn(..., new=True) will store together with its first turn."""
        return uuid.uuid4().hex[:12]

    def create_session(self, title: str = "") -> str:
        """An empty session stored now; a coaching turn starts its session with record_turn(..., new=True)."""
        sid = self.new_session_id()
        stamp = now()
        with self.db.transaction() as c:
            self.db.execute(c, "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                            (sid, title.strip()[:200], stamp, stamp))
        return sid

    def get_session(self, sid: str) -> SessionInfo:
        rows = self.db.query("SELECT id, title, created_at, updated_at, n_turns, phase FROM sessions WHERE id = ?",
                             (sid,))
        if not rows:
            raise SessionNotFound(f"no session {sid!r} (see `coach sessions`)")
        return SessionInfo(**dict(zip(SessionInfo.model_fields, rows[0])))

    def list_sessions(self, limit: int = 100) -> list[SessionInfo]:
        rows = self.db.query("SELECT id, title, created_at, updated_at, n_turns, phase FROM sessions "
                             "ORDER BY updated_at DESC, id LIMIT ?", (int(limit),))
        return [SessionInfo(**dict(zip(SessionInfo.model_fields, r))) for r in rows]

    def delete_session(self, sid: str) -> None:
        with self.db.transaction() as c:
            gone = self.db.execute(c, "DELETE FROM sessions WHERE id = ? RETURNING id", (sid,)).fetchall()
        if not gone:
            raise SessionNotFound(f"no session {sid!r} (see `coach sessions`)")

    # -- turns ----------------------------------------------------------------------------------------------
    def record_turn(self, sid: str, user_message: str, turn: CoachTurn, *, new: bool = False) -> None:
        """Store the user's message and the coach's turn (citations, commitment, phase) as one transaction.

        With new=True the session row (id from new_session_id) is inserted in that same transaction, so a first
        turn leaves either a whole session or nothing, whatever stops the process.
        """
        stamp = now()
        with self.db.transaction() as c:
            if new:
                self.db.execute(c, "INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                                (sid, "", stamp, stamp))
            # Bumping the counter first locks the session row, so concurrent turns get distinct seq numbers.
            row = self.db.execute(c, "UPDATE sessions SET n_turns = n_turns + 1, updated_at = ?, phase = ?, "
                                     "situation = ?, title = CASE WHEN title = '' THEN ? ELSE title END "
                                     "WHERE id = ? RETURNING n_turns",
                                  (stamp, turn.phase, turn.situation, _title(user_message), sid)).fetchone()
            if row is None:
                raise SessionNotFound(f"no session {sid!r} (see `coach sessions`)")
            seq = 2 * row[0]
            self.db.execute(c, "INSERT INTO messages (session_id, seq, role, text, created_at) VALUES (?, ?, ?, ?, ?)",
                            (sid, seq - 1, "user", user_message, stamp))
            stored = turn.model_copy(update={"session": sid})
            mid = self.db.execute(c, "INSERT INTO messages (session_id, seq, role, text, turn_json, created_at) "
                                     "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                  (sid, seq, "coach", turn.reply, stored.model_dump_json(), stamp)).fetchone()[0]
            for cit in turn.citations:
                self.db.execute(c, "INSERT INTO citations (message_id, session_id, source, title, chunk, text, link, "
                                   "start_char, end_char) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (mid, sid, cit.source, cit.title, cit.chunk, cit.text, cit.link, cit.start, cit.end))
            if turn.commitment is not None and turn.commitment.what.strip():
                cm = turn.commitment
                self.db.execute(c, "INSERT INTO commitments (session_id, message_id, what, by_when, measure, status, "
                                   "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (sid, mid, cm.what, cm.by_when, cm.measure, cm.status, stamp, stamp))

    def history(self, sid: str) -> list[StoredMessage]:
        self.get_session(sid)
        rows = self.db.query("SELECT role, text, turn_json, created_at FROM messages WHERE session_id = ? "
                             "ORDER BY seq", (sid,))
        return [StoredMessage(role=r, text=t, turn=CoachTurn.model_validate_json(j) if j else None, created_at=at)
                for r, t, j, at in rows]

    def asked_questions(self, sid: str) -> list[str]:
        """Every question the coach asked in this session, oldest first, without duplicates."""
        asked: dict[str, None] = {}
        for msg in self.history(sid):
            for q in msg.turn.questions if msg.turn else []:
                asked.setdefault(q, None)
        return list(asked)

    # -- commitments ----------------------------------------------------------------------------------------
    def commitments(self, sid: str | None = None, status: str | None = "open") -> list[CommitmentRecord]:
        where, params = [], []
        if sid is not None:
            where.append("session_id = ?")
            params.append(sid)
        if status is not None:
            where.append("status = ?")
            params.append(_status(status))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.query(f"SELECT {_COMMITMENT_COLS} FROM commitments{clause} ORDER BY created_at, id", params)
        return [_commitment(r) for r in rows]

    def last_open_commitment(self, exclude_session: str | None = None) -> CommitmentRecord | None:
        rows = self.db.query(f"SELECT {_COMMITMENT_COLS} FROM commitments WHERE status = 'open' AND session_id <> ? "
                             "ORDER BY created_at DESC, id DESC LIMIT 1", (exclude_session or "",))
        return _commitment(rows[0]) if rows else None

    def set_commitment_status(self, cid: int, status: str) -> None:
        with self.db.transaction() as c:
            done = self.db.execute(c, "UPDATE commitments SET status = ?, updated_at = ? WHERE id = ? RETURNING id",
                                   (_status(status), now(), int(cid))).fetchall()
        if not done:
            raise NotFound(f"no commitment {cid} (see `coach commitments --all`)")

    # -- peers ----------------------------------------------------------------------------------------------
    def add_peer(self, peer: PeerRecord) -> int:
        stamp = now()
        with self.db.transaction() as c:
            return self.db.execute(c, f"INSERT INTO peers ({', '.join(_PEER_FIELDS)}, created_at, updated_at) "
                                      f"VALUES ({', '.join('?' * (len(_PEER_FIELDS) + 2))}) RETURNING id",
                                   [getattr(peer, f) for f in _PEER_FIELDS] + [stamp, stamp]).fetchone()[0]

    def get_peer(self, pid: int) -> PeerRecord:
        rows = self.db.query(f"SELECT id, {', '.join(_PEER_FIELDS)} FROM peers WHERE id = ?", (int(pid),))
        if not rows:
            raise NotFound(f"no peer {pid}")
        return PeerRecord(**dict(zip(("id",) + _PEER_FIELDS, rows[0])))

    def list_peers(self) -> list[PeerRecord]:
        rows = self.db.query(f"SELECT id, {', '.join(_PEER_FIELDS)} FROM peers ORDER BY vital DESC, name, id")
        return [PeerRecord(**dict(zip(("id",) + _PEER_FIELDS, r))) for r in rows]

    def update_peer(self, pid: int, **changes: Any) -> PeerRecord:
        """Change some fields of a peer; the result is validated like a new one."""
        unknown = set(changes) - set(_PEER_FIELDS)
        if unknown:
            raise ConfigError(f"unknown peer field(s): {', '.join(sorted(unknown))}")
        try:
            peer = PeerRecord(**{**self.get_peer(pid).model_dump(), **changes})
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(f"bad peer {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
        with self.db.transaction() as c:
            self.db.execute(c, f"UPDATE peers SET {', '.join(f'{f} = ?' for f in _PEER_FIELDS)}, updated_at = ? "
                               "WHERE id = ?", [getattr(peer, f) for f in _PEER_FIELDS] + [now(), int(pid)])
        return peer

    def delete_peer(self, pid: int) -> None:
        with self.db.transaction() as c:
            if not self.db.execute(c, "DELETE FROM peers WHERE id = ? RETURNING id", (int(pid),)).fetchall():
                raise NotFound(f"no peer {pid}")

    # -- model calls and export -----------------------------------------------------------------------------
    def log_call(self, provider: str, model: str, prompt_hash: str, request_json: str, response_text: str,
                 ms: int, error: str = "") -> None:
        with self.db.transaction() as c:
            self.db.execute(c, "INSERT INTO model_calls (at, provider, model, prompt_hash, request_json, response_text, "
                               "ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (now(), provider, model, prompt_hash, redact(request_json), redact(response_text),
                             int(ms), redact(error)))

    def model_calls(self, limit: int = 100) -> list[dict[str, Any]]:
        cols = ("at", "provider", "model", "prompt_hash", "request_json", "response_text", "ms", "error")
        rows = self.db.query(f"SELECT {', '.join(cols)} FROM model_calls ORDER BY id DESC LIMIT ?", (int(limit),))
        return [dict(zip(cols, r)) for r in rows]

    def export(self, sid: str, fmt: str = "markdown") -> str:
        """The session as a readable Markdown transcript or as full structured JSON."""
        from agent.store.export import to_json, to_markdown

        if fmt in ("markdown", "md"):
            return to_markdown(self.get_session(sid), self.history(sid), self.commitments(sid, status=None))
        if fmt == "json":
            return to_json(self.get_session(sid), self.history(sid), self.commitments(sid, status=None))
        raise ConfigError(f"unknown export format {fmt!r} (use markdown or json)")


def _title(message: str) -> str:
    first = " ".join(message.split())
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ConfigError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    return status


def _commitment(row: tuple) -> CommitmentRecord:
    cid, sid, what, by_when, measure, status, created = row
    return CommitmentRecord(id=cid, session=sid, what=what, by_when=by_when, measure=measure, status=status,
                            created_at=created)


def open_store(settings: Any) -> Store:
    """The store for these settings: SQLite at settings.db_path, or PostgreSQL when settings.database_url is set."""
    return Store(Database(backend_for(settings.db_path, getattr(settings, "database_url", ""))))
