"""The LLM engine's prompt: passages wrapped as data, history fitted to the token budget, then rendered."""

from __future__ import annotations

import re
from typing import Any

from agent.coach.engine import EngineInput, HistoryItem
from agent.core.prompts import PromptSpec
from agent.core.tokens import count_tokens, encoding
from agent.core.types import Hit

MAX_ITEM_TOKENS = 300  # one very long old message must not crowd out the rest of the history
MAX_ASKED = 40
_DELIMITER = re.compile(r"<\s*(/?)\s*passages?\b", re.IGNORECASE)
_LABELS = {"user": "Person", "coach": "Coach", "summary": "Summary"}


def _neutralizer() -> Any:
    """guardrails.neutralize when that module exists; identity otherwise."""
    try:
        from agent.safety.guard import neutralize
    except ImportError:
        return lambda text: text
    return neutralize


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def format_passages(hits: list[Hit]) -> str:
    """Each hit as <passage id=... title=...>text</passage>; text cannot close the wrapper early."""
    neutralize = _neutralizer()
    blocks = []
    for hit in hits:
        text = _DELIMITER.sub(lambda m: f"[{m.group(1)}passage", neutralize(hit.chunk.text))
        blocks.append(f'<passage id="{_attr(hit.chunk.id)}" title="{_attr(hit.chunk.title)}">\n{text.strip()}\n'
                      "</passage>")
    return "\n".join(blocks)


def clip(text: str, max_tokens: int) -> str:
    """text cut to at most max_tokens tokens, marked with an ellipsis when cut."""
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return encoding().decode(tokens[: max(0, max_tokens - 1)]).rstrip() + "…"


def _line(item: HistoryItem) -> str:
    return f"{_LABELS.get(item.role, item.role.title())}: {clip(' '.join(item.text.split()), MAX_ITEM_TOKENS)}"


def _summary(items: list[HistoryItem], omitted: int) -> str:
    opening = next((i.text for i in items if i.role == "user"), "")
    note = f"({omitted} earlier messages not shown"
    return note + (f"; the person began with: \"{clip(' '.join(opening.split()), 40)}\")" if opening else ")")


def fit_history(items: list[HistoryItem], room: int) -> str:
    """The newest history lines that fit in `room` tokens, after a one-line note on what was left out."""
    lines = [_line(i) for i in items]
    if not lines or room <= 0:
        return ""
    if count_tokens("\n".join(lines)) <= room:
        return "\n".join(lines)
    reserve = count_tokens(_summary(items, len(items)))
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = count_tokens(line) + 1
        if used + cost > room - reserve:
            break
        kept.insert(0, line)
        used += cost
    text = "\n".join([_summary(items, len(lines) - len(kept))] + kept)
    return text if count_tokens(text) <= room else "\n".join(kept)


def _commitment_text(inp: EngineInput) -> str:
    c = inp.open_commitment
    if c is None:
        return ""
    parts = [c.what] + ([f"by {c.by_when}"] if c.by_when else []) + ([f"measure: {c.measure}"] if c.measure else [])
    return "; ".join(parts)


def prompt_values(inp: EngineInput, canary: str, hits: list[Hit], message: str, history: str) -> dict[str, Any]:
    return {
        "message": message,
        "history": history,
        "passages": format_passages(hits),
        "phase": inp.phase,
        "asked": list(dict.fromkeys(inp.asked))[-MAX_ASKED:],
        "canary": canary,
        "situation": inp.situation,
        "peer": inp.peer,
        "open_commitment": _commitment_text(inp),
        "advice_permitted": "yes" if inp.advice_permitted else "no",
    }


def prompt_tokens(messages: list[Any]) -> int:
    return sum(count_tokens(str(m.content)) for m in messages)


def sizing_canary(canary: str) -> str:
    """A stand-in as long as the canary that costs at least as many tokens as any canary could (one per hex
    character), so what fits the budget never depends on which random canary this engine drew."""
    head, sep, tail = canary.partition("-")
    return f"{head}{sep}{('0a1b2c3d4e5f6a7b' * 4)[:len(tail)]}" if sep else canary


def build_messages(spec: PromptSpec, inp: EngineInput, *, canary: str, budget: int) -> list[Any]:
    """Rendered messages that fit `budget` tokens: passages are dropped (worst first), then history trimmed."""
    hits = list(inp.hits)
    message = inp.message
    # Sized with the stand-in: a random canary's token count (8 to 18) moved the history cut, so the same
    # conversation gave different prompts run to run (and recorded cassettes missed).
    sized = sizing_canary(canary)
    fixed = prompt_tokens(spec.render(**prompt_values(inp, sized, hits, message, "")))
    while fixed > budget and hits:
        hits.pop()
        fixed = prompt_tokens(spec.render(**prompt_values(inp, sized, hits, message, "")))
    if fixed > budget:  # the message alone is too big: keep its beginning
        message = clip(message, max(16, count_tokens(message) - (fixed - budget) - 8))
        fixed = prompt_tokens(spec.render(**prompt_values(inp, sized, hits, message, "")))
    history_items = list(inp.history)
    room = budget - fixed + count_tokens("(none)")
    while True:
        history = fit_history(history_items, room)
        used = prompt_tokens(spec.render(**prompt_values(inp, sized, hits, message, history)))
        if used <= budget or room <= 0:
            return spec.render(**prompt_values(inp, canary, hits, message, history))
        room -= used - budget
