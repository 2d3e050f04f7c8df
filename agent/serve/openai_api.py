"""The OpenAI chat-completions shapes: read a request into (session, message), write replies and stream chunks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


class BadRequest(ValueError):
    """A request the API refuses, with its HTTP status and OpenAI-style error type."""

    def __init__(self, message: str, status: int = 400, kind: str = "invalid_request_error",
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.param = status, kind, param


def error_body(message: str, kind: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _text(content: Any) -> str:
    """A message's content: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if parts:
            return "\n".join(parts)
    raise BadRequest("messages[-1].content must be a string or a list of text parts", param="messages")


def read_request(body: Any) -> tuple[str | None, str, bool]:
    """(session, message, stream) from a chat-completions body: the last user message is the turn's message.

    The coach keeps each session's history itself, so earlier messages are not replayed; `session` (or `user`)
    names the session to continue, and a reply's `coach.session` says which one a new conversation got.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list", param="messages")
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise BadRequest("messages holds no user message", param="messages")
    message = _text(users[-1].get("content"))
    session = body.get("session") or body.get("user") or None
    if session is not None and not isinstance(session, str):
        raise BadRequest("session must be a string", param="session")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("stream must be true or false", param="stream")
    return session, message, stream


def sources_text(turn: dict[str, Any]) -> str:
    refs = [f"[{n}] {c['title']} ({c['source']}#{c['chunk']})" for n, c in enumerate(turn["citations"], 1)]
    return ("\n\nSources: " + "  ".join(refs)) if refs else ""


def extras(turn: dict[str, Any]) -> dict[str, Any]:
    """The coach's own fields, carried beside the standard ones (clients ignore keys they do not know)."""
    keys = ("session", "citations", "questions", "openers", "safety", "phase", "situation", "commitment")
    return {k: turn.get(k) for k in keys}


def completion(turn: dict[str, Any], model: str) -> dict[str, Any]:
    """A whole chat.completion: the reply (with its sources line) as the assistant message, the coach's fields."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": turn["reply"] + sources_text(turn)}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "coach": extras(turn),
    }


class ChunkWriter:
    """Server-sent events of chat.completion.chunk objects for one streamed reply."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.model = model
        self.created = int(time.time())

    def event(self, delta: dict[str, Any], finish: str | None = None, **more: Any) -> bytes:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **more}
        return f"data: {json.dumps(chunk)}\n\n".encode()

    def first(self) -> bytes:
        return self.event({"role": "assistant", "content": ""})

    def text(self, piece: str) -> bytes:
        return self.event({"content": piece})

    def last(self, turn: dict[str, Any]) -> bytes:
        tail = sources_text(turn)
        end = self.event({"content": tail}) if tail else b""
        return end + self.event({}, finish="stop", coach=extras(turn)) + b"data: [DONE]\n\n"
