"""Streamlit glue: settings from session state, cached heavy objects, friendly errors (logic is in agent/)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import streamlit as st
from pydantic import SecretStr

log = logging.getLogger("coach.ui")

# Session-state keys owned here; widgets use "_w_*" keys and copy into these, so values survive pages.
DEFAULTS: dict[str, Any] = {
    "provider": "offline",
    "model": "",
    "base_url": "",
    "api_key": None,
    "session_id": None,
}
GENERIC_ERROR = "Something went wrong on our side; the details are in the log. Please try again."


def init_state() -> None:
    """Give every shared key a value once per browser session."""
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


@contextlib.contextmanager
def friendly_errors(where: str = "") -> Iterator[None]:
    """Show expected failures as one st.error line and anything else generically, never a traceback."""
    from agent.core.errors import CoachError
    from agent.library.passages import escape_markdown

    try:
        yield
    except CoachError as exc:
        st.error(escape_markdown(str(exc)))
    except Exception:
        log.exception("UI failure%s", f" in {where}" if where else "")
        st.error(GENERIC_ERROR)


def listed_or_stop(where: str, fetch: Any, empty: str) -> list[Any]:
    """fetch() under friendly_errors(where); when it gives nothing (or failed), show `empty` and stop the page."""
    items: list[Any] = []
    with friendly_errors(where):
        items = fetch()
    if not items:
        st.info(empty)
        st.stop()
    return items


def current_settings():
    """Settings from COACH_* env/config with the sidebar's choices on top; the key stays a SecretStr."""
    from agent.core.settings import load_settings

    init_state()
    key: SecretStr | None = st.session_state.api_key
    return load_settings(
        provider=st.session_state.provider,
        model=st.session_state.model or None,
        base_url=st.session_state.base_url or None,
        api_key=key,
    )


def fingerprint(settings: Any, *fields: str) -> str:
    """A cache key for settings: the key itself is hashed, never kept in the key or shown."""
    data = settings.model_dump(mode="json", include=set(fields) if fields else None)
    secret = settings.api_key.get_secret_value() if settings.api_key else ""
    data["api_key"] = hashlib.sha256(secret.encode()).hexdigest()[:16] if secret else ""
    return hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()


_DATA_FIELDS = (
    "home",
    "embedder",
    "chroma_url",
    "database_url",
    "index_bundled_corpus",
    "top_k",
    "max_file_mb",
)


# st.cache_resource hashes only arguments without a leading underscore, so the fingerprint is the whole key.
@st.cache_resource(show_spinner=False, max_entries=8)
def _store_by_key(key: str, _settings: Any):
    from agent.store.memory import open_store

    return open_store(_settings)


@st.cache_resource(show_spinner=False, max_entries=8)
def _searcher_by_key(key: str, _settings: Any):
    from agent.ingest.bundled import open_searcher

    return open_searcher(_settings)


@st.cache_resource(show_spinner=False, max_entries=8)
def _coach_by_key(key: str, _settings: Any, _searcher: Any, _store: Any):
    import threading

    from agent.coach.pipeline import Coach

    coach = Coach(_settings, searcher=_searcher, store=_store)
    # While the person reads the page and types, load the model, rules and banks the first reply would wait for.
    threading.Thread(target=_warm, args=(coach, _settings), daemon=True, name="coach-warm").start()
    return coach


def _warm(coach: Any, settings: Any) -> None:
    from agent.serve.warm import start

    try:
        start(settings)
        coach.searcher.warm()
        _ = coach.engine
    except Exception:  # noqa: BLE001 - a failed warm-up is retried, and reported, by the first real turn
        pass


def store(settings: Any | None = None):
    """The session store (SQLite in COACH_HOME), one per data configuration."""
    settings = settings or current_settings()
    return _store_by_key(fingerprint(settings, *_DATA_FIELDS), settings)


def searcher(settings: Any | None = None):
    """The hybrid searcher; the first call indexes the bundled notes, behind a spinner."""
    settings = settings or current_settings()
    key = fingerprint(settings, *_DATA_FIELDS)
    ready: set[str] = st.session_state.setdefault("_ready_searchers", set())
    if key in ready:
        return _searcher_by_key(key, settings)
    with st.spinner("Indexing the bundled notes…"):
        found = _searcher_by_key(key, settings)
    ready.add(key)
    return found


def index(settings: Any | None = None):
    """The searcher's index, refreshed so another process's ingest shows up."""
    idx = searcher(settings).index
    idx.refresh()
    return idx


def coach(settings: Any | None = None):
    """The Coach for the sidebar's provider, sharing the searcher and store."""
    settings = settings or current_settings()
    return _coach_by_key(fingerprint(settings), settings, searcher(settings), store(settings))
