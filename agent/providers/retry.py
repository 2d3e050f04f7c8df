"""Retries for provider calls: exponential backoff with jitter, Retry-After honoured, one clear error at the end."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agent.core.errors import ProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class Fault:
    """What went wrong with one call, and whether trying again could help."""

    kind: str  # timeout | refused | rate_limit | server | malformed | client
    retryable: bool
    reason: str
    retry_after: float | None = None


@dataclass
class RetryPolicy:
    """How many retries, how long to wait; `sleep` and `rng` are swappable so tests can observe them."""

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)  # every delay actually slept, for logs and tests

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RetryPolicy:
        return cls(max_retries=settings.max_retries, **overrides)

    def delay(self, attempt: int, fault: Fault) -> float:
        """The wait before retry number `attempt` (from 1): Retry-After when given, else jittered backoff."""
        if fault.retry_after is not None:
            return min(max(fault.retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling * (0.5 + self.rng() / 2)  # "equal jitter": never less than half the backoff


def _status(exc: BaseException) -> int | None:
    for candidate in (getattr(exc, "status_code", None), getattr(getattr(exc, "response", None), "status_code", None),
                      getattr(exc, "status", None)):
        if isinstance(candidate, int) and candidate > 0:
            return candidate
    return None


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def classify(exc: BaseException) -> Fault | None:
    """Map a provider exception to a Fault; None means it is not a provider fault (a bug: let it propagate)."""
    if isinstance(exc, ProviderError):
        return Fault("client", False, str(exc))
    name = type(exc).__name__
    status = _status(exc)
    if status is not None:
        detail = _one_line(getattr(exc, "message", None) or str(exc) or name)
        if status == 429:
            return Fault("rate_limit", True, f"rate limited (HTTP 429): {detail}", _retry_after(exc))
        if status >= 500:
            return Fault("server", True, f"server error (HTTP {status}): {detail}", _retry_after(exc))
        if status >= 400:
            return Fault("client", False, f"request rejected (HTTP {status}): {detail}")
    if name == "LengthFinishReasonError":  # the answer hit max_tokens; asking again gives the same
        return Fault("truncated", False, "the answer was cut off at max_tokens")
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return Fault("timeout", True, "timed out")
    if isinstance(exc, ConnectionError) or "Connect" in name:
        return Fault("refused", True, f"cannot connect: {_one_line(str(exc) or name)}")
    if isinstance(exc, json.JSONDecodeError) or name in ("APIResponseValidationError", "ResponseValidationError"):
        return Fault("malformed", True, f"malformed response: {_one_line(str(exc) or name)}")
    if isinstance(exc, OSError):
        return Fault("refused", True, f"network error: {_one_line(str(exc) or name)}")
    return None


def _give_up(provider: str, tries: int, fault: Fault) -> ProviderError:
    return ProviderError(f"provider {provider} failed after {tries} {'try' if tries == 1 else 'tries'}: "
                         f"{fault.reason}")


def call_with_retry(fn: Callable[[], T], *, provider: str, policy: RetryPolicy,
                    on_fault: Callable[[Fault, int], None] | None = None) -> T:
    """Call fn, retrying provider faults; after policy.max_retries retries raise one ProviderError."""
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:
            fault = classify(exc)
            if fault is None:
                raise
            attempt += 1
            if on_fault:
                on_fault(fault, attempt)
            if not fault.retryable or attempt > policy.max_retries:
                raise _give_up(provider, attempt, fault) from exc
            wait = policy.delay(attempt, fault)
            policy.waits.append(wait)
            policy.sleep(wait)


def stream_with_retry(make: Callable[[], Iterator[T]], *, provider: str, policy: RetryPolicy,
                      on_fault: Callable[[Fault, int], None] | None = None) -> Iterator[T]:
    """Stream from make(); faults before the first item are retried, later ones end in a ProviderError."""

    def first() -> tuple[Iterator[T], list[T]]:
        it = iter(make())
        return it, [item for item in _take_one(it)]

    it, head = call_with_retry(first, provider=provider, policy=policy, on_fault=on_fault)
    yield from head
    try:
        yield from it
    except Exception as exc:
        fault = classify(exc)
        if fault is None:
            raise
        if on_fault:
            on_fault(fault, 1)
        raise ProviderError(f"provider {provider} failed mid-stream: {fault.reason}") from exc


def _take_one(it: Iterator[T]) -> Iterator[T]:
    for item in it:
        yield item
        return
