"""Session history for the engine, trimmed to a token budget: the newest messages, plus a one-line summary."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from agent.coach.engine import HistoryItem
from agent.core.tokens import count_tokens

SUMMARY_WORDS = 40


@lru_cache(maxsize=8192)
def tokens(text: str) -> int:
    """count_tokens, cached: the same history messages are counted again every turn."""
    return count_tokens(text)


def history_tokens(items: Sequence[HistoryItem]) -> int:
    """What a history costs in tokens (role labels included)."""
    return sum(tokens(f"{item.role}: {item.text}") for item in items)


def _summary(dropped: Sequence[Any]) -> str:
    first_user = next((m.text for m in dropped if m.role == "user"), "")
    words = first_user.split()
    topic = " ".join(words[:SUMMARY_WORDS]) + (" ..." if len(words) > SUMMARY_WORDS else "")
    return f"{len(dropped)} earlier messages left out for length; the conversation began with: {topic}"


def _newest(messages: Sequence[Any], budget: int) -> tuple[list[HistoryItem], int]:
    kept: list[HistoryItem] = []
    used = 0
    for msg in reversed(messages):
        item = HistoryItem(role=msg.role, text=msg.text)
        cost = tokens(f"{item.role}: {item.text}")
        if used + cost > budget:
            break
        kept.append(item)
        used += cost
    kept.reverse()
    return kept, used


def trim_history(messages: Sequence[Any], budget: int) -> list[HistoryItem]:
    """The newest messages that fit in `budget` tokens, after a summary line when some are dropped."""
    if budget <= 0 or not messages:
        return []
    kept, _ = _newest(messages, budget)
    if len(kept) == len(messages):
        return kept
    reserve = min(budget, tokens(f"summary: {_summary(messages)}") + 4)
    kept, used = _newest(messages, budget - reserve)
    summary = HistoryItem(role="summary", text=_summary(messages[:len(messages) - len(kept)]))
    fits = used + tokens(f"summary: {summary.text}") <= budget
    return ([summary] if fits else []) + kept


def fit_history(messages: Sequence[Any], total: int, fixed: Sequence[str]) -> list[HistoryItem]:
    """trim_history(messages, total - tokens of the `fixed` texts), counting tokens only when it could matter."""
    if not messages:
        return []
    # A token is at least one UTF-8 byte: when everything fits in `total` bytes it fits in tokens, and the
    # tokenizer (0.12 s to load, in a one-turn `coach ask`) is not needed for the same answer.
    size = sum(len(t.encode()) for t in fixed) + sum(len(f"{m.role}: {m.text}".encode()) for m in messages)
    if size <= total:
        return [HistoryItem(role=m.role, text=m.text) for m in messages]
    return trim_history(messages, max(total - sum(tokens(t) for t in fixed), 0))
