"""Generic reading of model text: drop chat-template markers, find the first JSON object and repair the usual slips."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)(?:```|$)", re.DOTALL)
_CHAT_MARKERS = re.compile(r"<\|im_(?:start|end)\|>(?:assistant|user|system)?|<end_of_turn>|<start_of_turn>\w*|</s>")
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def clean_text(text: str) -> str:
    """Drop chat-template markers a local model may leak, and surrounding whitespace."""
    return _CHAT_MARKERS.sub("", text or "").strip()


def first_object(text: str) -> str | None:
    """The first balanced {...} in text (strings respected); an unclosed one is closed, for cut-off output."""
    start = text.find("{")
    if start < 0:
        return None
    stack: list[str] = []
    in_str: str | None = None
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == in_str:
                in_str = None
        elif ch in "\"'":
            in_str = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if stack and stack[-1] == ch:
                stack.pop()
            if not stack:
                return text[start:i + 1]
    # Cut off mid-object (max_tokens): close the open string and brackets so the part we have is usable.
    tail = text[start:].rstrip()
    if in_str:
        tail += in_str
    tail = re.sub(r",\s*$", "", tail)
    tail = re.sub(r",?\s*\"[^\"]*\"\s*:?\s*$", "", tail) if tail.endswith(":") else tail
    return tail + "".join(reversed(stack))


def _loads(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except json.JSONDecodeError:
        pass
    fixed = _TRAILING_COMMA.sub(r"\1", candidate)
    try:
        return json.loads(fixed)
    except json.JSONDecodeError:
        pass
    # Python-style dicts: single quotes, None/True/False.
    try:
        return ast.literal_eval(re.sub(r"\bnull\b", "None", re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", fixed))))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object in text, after stripping code fences and repairing trailing commas and quotes."""
    text = clean_text(text)
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for chunk in candidates:
        obj = first_object(chunk)
        if obj is None:
            continue
        data = _loads(obj)
        if isinstance(data, dict):
            return data
    return None
