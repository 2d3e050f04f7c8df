"""Record and replay chat-model calls: evals run offline, byte for byte, against responses recorded once."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    message_to_dict,
    messages_from_dict,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from agent.core.errors import CoachError

# Per-run values that would make every key unique; masked before hashing (the guardrails' canary, mainly).
DEFAULT_MASKS = (r"CANARY-[A-Za-z0-9_\-]+", r"cnry-[0-9a-f]+")
KEY_KWARGS = ("tools", "tool_choice", "response_format", "temperature", "max_tokens", "stop", "format")


class CassetteMiss(CoachError):
    """Replay found no recorded response for a request."""


def cassette_path(folder: Path, provider: str, model: str) -> Path:
    """evals/cassettes/<provider>-<model>.jsonl, the model name made file-safe."""
    safe = re.sub(r"[^A-Za-z0-9._\-]+", "_", model or "default").strip("_") or "default"
    return folder / f"{provider}-{safe}.jsonl"


def _message_key(m: BaseMessage, masks: Sequence[re.Pattern[str]]) -> dict[str, Any]:
    content: Any = m.content
    if isinstance(content, str):
        for p in masks:
            content = p.sub("<masked>", content)
    return {"type": m.type, "content": content, "name": m.name, "tool_calls": getattr(m, "tool_calls", None) or None,
            "tool_call_id": getattr(m, "tool_call_id", None)}


def cassette_key(provider: str, model: str, messages: Sequence[BaseMessage], params: dict[str, Any],
                 masks: Sequence[str] = DEFAULT_MASKS) -> str:
    """sha256 of provider, model, the serialized messages (volatile parts masked) and the request params."""
    compiled = [re.compile(p) for p in masks]
    payload = {"provider": provider, "model": model, "messages": [_message_key(m, compiled) for m in messages],
               "params": params}
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Cassette:
    """One JSONL file of recorded calls, loaded lazily; a later line with the same key wins."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self.skipped_lines = 0

    def entries(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            entries: dict[str, dict[str, Any]] = {}
            if self.path.is_file():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        item = json.loads(line)
                        entries[item["key"]] = item
                    except (json.JSONDecodeError, KeyError, TypeError):
                        self.skipped_lines += 1  # a line cut short by a crash mid-write: ignore it
            self._entries = entries
        return self._entries

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries().get(key)

    def put(self, entry: dict[str, Any]) -> None:
        """Append one entry as a single line, so a crash can at worst leave one unreadable last line."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
            self.entries()[entry["key"]] = entry


def _ai_message(data: dict[str, Any]) -> AIMessage:
    msg = messages_from_dict([data])[0]
    return msg if isinstance(msg, AIMessage) else AIMessage(content=msg.content)


class CassetteChatModel(BaseChatModel):
    """Wraps a chat model: 'record' forwards and stores every call; 'replay' answers only from the cassette."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: Path
    provider: str
    model: str
    mode: Literal["record", "replay"] = "replay"
    inner: Any = None  # the real BaseChatModel; required for record mode, never touched in replay
    params: dict[str, Any] = Field(default_factory=dict)  # settings that shape answers (temperature, ...)
    sample: int = 0  # which repeat this is, so repeated runs of one prompt can record different answers
    masks: tuple[str, ...] = DEFAULT_MASKS
    _cassette: Cassette | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "cassette"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model, "mode": self.mode, "path": str(self.path)}

    @property
    def cassette(self) -> Cassette:
        if self._cassette is None:
            self._cassette = Cassette(self.path)
        return self._cassette

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable:
        """Tools are bound like the recorded model would: recording asks the real model; replay asks the cassette."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if self.mode == "record" and self.inner is not None:
            self.inner.bind_tools(formatted, tool_choice=tool_choice)  # raises NotImplementedError when unsupported
        elif self.mode == "replay":
            entries = self.cassette.entries().values()
            if entries and not any(e.get("tools_used") for e in entries):
                raise NotImplementedError(f"{self.path.name} was recorded without tool calling")
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def key_for(self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> str:
        params = {**self.params, **{k: kwargs[k] for k in KEY_KWARGS if kwargs.get(k) is not None},
                  "stop": stop or None, "sample": self.sample}
        return cassette_key(self.provider, self.model, messages, params, self.masks)

    def _miss(self, key: str) -> CassetteMiss:
        return CassetteMiss(f"cassette miss: no recorded response for {self.provider}/{self.model} key {key} in "
                            f"{self.path}; record it with `coach eval --record --provider {self.provider}`")

    def _target(self, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The inner model (with tools bound the inner model's own way) and the remaining call kwargs."""
        if self.inner is None:
            raise CoachError(f"cassette {self.path.name}: record mode needs a real chat model")
        rest = dict(kwargs)
        tools = rest.pop("tools", None)
        if tools:
            return self.inner.bind_tools(tools, tool_choice=rest.pop("tool_choice", None)), rest
        rest.pop("tool_choice", None)
        return self.inner, rest

    def _entry(self, key: str, message: AIMessage, chunks: list[AIMessageChunk] | None,
               kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"key": key, "provider": self.provider, "model": self.model, "sample": self.sample,
                "tools_used": bool(kwargs.get("tools")),
                "message": message_to_dict(message),
                "chunks": [message_to_dict(c) for c in chunks] if chunks is not None else None}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        key = self.key_for(messages, stop, kwargs)
        if self.mode == "replay":
            entry = self.cassette.get(key)
            if entry is None:
                raise self._miss(key)
            return ChatResult(generations=[ChatGeneration(message=_ai_message(entry["message"]))])
        target, rest = self._target(kwargs)
        message = target.invoke(messages, stop=stop, **rest)
        self.cassette.put(self._entry(key, message, None, kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        key = self.key_for(messages, stop, kwargs)
        if self.mode == "replay":
            entry = self.cassette.get(key)
            if entry is None:
                raise self._miss(key)
            stored = entry.get("chunks")
            if stored is None:  # recorded by invoke: replay it as one chunk
                full = _ai_message(entry["message"])
                pieces = [AIMessageChunk(content=full.content, tool_call_chunks=[
                    {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                    for i, c in enumerate(full.tool_calls)])]
            else:
                pieces = [messages_from_dict([c])[0] for c in stored]
            for piece in pieces:
                if run_manager and isinstance(piece.content, str) and piece.content:
                    run_manager.on_llm_new_token(piece.content)
                yield ChatGenerationChunk(message=piece)
            return
        target, rest = self._target(kwargs)
        chunks: list[AIMessageChunk] = []
        for piece in target.stream(messages, stop=stop, **rest):
            chunks.append(piece)
            if run_manager and isinstance(piece.content, str) and piece.content:
                run_manager.on_llm_new_token(piece.content)
            yield ChatGenerationChunk(message=piece)
        self.cassette.put(self._entry(key, _aggregate(chunks), chunks, kwargs))


def _aggregate(chunks: list[AIMessageChunk]) -> AIMessage:
    from langchain_core.messages import message_chunk_to_message

    if not chunks:
        return AIMessage(content="")
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    msg = message_chunk_to_message(total)
    return msg if isinstance(msg, AIMessage) else AIMessage(content=msg.content)
