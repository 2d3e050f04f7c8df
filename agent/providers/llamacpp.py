"""A small in-process chat model over llama-cpp-python, so a local GGUF needs no server and no langchain-community."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from agent.core.errors import ConfigError, ProviderError

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def _to_llama(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "any", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice


class LocalLlamaChat(BaseChatModel):
    """llama_cpp.Llama behind the BaseChatModel interface; chatml is the chat format that stops by itself."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.3
    chat_format: str = "chatml"
    _llama: Any = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "chat_format": self.chat_format}

    def _model(self) -> Any:
        if self._llama is None:
            try:
                import llama_cpp
            except ImportError:
                raise ConfigError("provider llamacpp needs the [local] extra: pip install 'socratic-coach[local]'")  # noqa: B904 (kept as is)
            self._llama = llama_cpp.Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                          chat_format=self.chat_format, verbose=False)
        return self._llama

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Runnable:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=_tool_choice(tool_choice),
                         **kwargs)

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params = {"max_tokens": self.max_tokens, "temperature": self.temperature, "stop": stop or []}
        for key in ("tools", "tool_choice", "response_format", "max_tokens", "temperature"):
            if kwargs.get(key) is not None:
                params[key] = kwargs[key]
        return params

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        # One Llama context cannot serve two generations at once.
        with self._lock, _window_errors(self.n_ctx):
            out = self._model().create_chat_completion(messages=_to_llama(messages), **self._params(stop, kwargs))
        msg = out["choices"][0]["message"]
        calls = [{"name": c["function"]["name"], "args": _args(c["function"].get("arguments")),
                  "id": c.get("id") or f"call_{uuid.uuid4().hex[:8]}"} for c in msg.get("tool_calls") or []]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=msg.get("content") or "",
                                                                        tool_calls=calls))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._lock, _window_errors(self.n_ctx):
            pieces = self._model().create_chat_completion(messages=_to_llama(messages), stream=True,
                                                         **self._params(stop, kwargs))
            for piece in pieces:
                delta = piece["choices"][0].get("delta") or {}
                text = delta.get("content") or ""
                tool_chunks = [{"name": (c.get("function") or {}).get("name"),
                                "args": (c.get("function") or {}).get("arguments") or "",
                                "id": c.get("id"), "index": c.get("index", 0)} for c in delta.get("tool_calls") or []]
                if not text and not tool_chunks:
                    continue
                if text and run_manager:
                    run_manager.on_llm_new_token(text)
                yield ChatGenerationChunk(message=AIMessageChunk(content=text, tool_call_chunks=tool_chunks))


@contextmanager
def _window_errors(n_ctx: int) -> Iterator[None]:
    """llama.cpp's "Requested tokens (N) exceed context window" as one ProviderError line, not a traceback."""
    try:
        yield
    except ValueError as exc:
        if "context window" not in str(exc):
            raise
        raise ProviderError(f"llamacpp: the prompt does not fit the model's context window of {n_ctx} tokens "
                            f"({exc}); lower COACH_CONTEXT_BUDGET") from None


def _args(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        from agent.core.jsontext import extract_json

        value = extract_json(raw or "") or {}
    return value if isinstance(value, dict) else {}
