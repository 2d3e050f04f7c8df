"""Chroma failures as one-line errors: a server that is down or hung, or a store that errs; the HTTP timeout."""

from __future__ import annotations

from typing import Any

from agent.core.errors import CoachError, IndexMissing

CHROMA_TIMEOUT_S = 30.0  # per HTTP request to a Chroma server; chromadb's own client waits forever
REPAIR_HINT = "run `coach doctor --repair`"


class ChromaUnavailable(IndexMissing):
    """The Chroma server is down or failing, or the embedded Chroma store cannot be used."""


def bound_http_timeout(client: Any) -> None:
    """Give a Chroma HTTP client a timeout, so a hung server fails a search instead of freezing it."""
    import httpx

    # chromadb builds its httpx.Client with timeout=None and offers no setting for it.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(CHROMA_TIMEOUT_S, connect=min(3.0, CHROMA_TIMEOUT_S))


def chroma_failure(exc: BaseException, url: str, where: str) -> CoachError:
    """The one-line error for `exc`, raised talking to the server at `url` (or the store named by `where`)."""
    if isinstance(exc, CoachError):
        return exc
    if url and is_timeout(exc):
        return ChromaUnavailable(
            f"Chroma server at {url} did not answer within {CHROMA_TIMEOUT_S:g} s; check that it is running"
        )
    if url and is_unreachable(exc):
        return ChromaUnavailable(
            f"Chroma server at {url} is not reachable; start it or unset COACH_CHROMA_URL"
        )
    hint = "check the server's log" if url else REPAIR_HINT
    return ChromaUnavailable(f"{where} failed ({one_line(exc)}); {hint}")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def is_timeout(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc, httpx.TimeoutException | TimeoutError)


def is_unreachable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, ValueError) and "could not connect" in str(exc).lower()


def is_chroma_failure(exc: BaseException) -> bool:
    """Errors that come from Chroma or the HTTP link to it (not our own bugs)."""
    import httpx
    from chromadb.errors import ChromaError, NotFoundError

    if isinstance(exc, NotFoundError):
        return False  # callers handle a missing collection themselves
    chroma_or_link = ChromaError | httpx.HTTPError | ConnectionError | TimeoutError
    return isinstance(exc, chroma_or_link) or is_unreachable(exc)
