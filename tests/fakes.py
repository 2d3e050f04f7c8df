"""Fakes at the LLM boundary: a chat model that records every message list it is sent and replies from a script."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

# One script step: text, a dict (JSON text, or a tool call when tools are bound), a ready AIMessage,
# an exception to raise, or a callable that receives the messages and returns any of those.
Step = str | dict | AIMessage | BaseException | Callable[[list[BaseMessage]], Any]

VALID_REPLY = {
    "reply": "It sounds like the silence in that meeting stayed with you.",
    "question": "What would you want them to understand about it?",
    "cited_ids": [],
    "phase": "reality",
    "openers": [],
    "commitment": None,
}


class RecordingChatModel(BaseChatModel):
    """Replies from `script` in order (then `default`), recording each call's messages and kwargs."""

    script: list[Any] = Field(default_factory=list)
    default: Any = None  # used once the script runs out; None means running out is an error
    supports_tools: bool = False  # expose bind_tools, so with_structured_output(method="function_calling") works
    chunk_size: int = 7  # characters per streamed chunk
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    call_kwargs: list[dict[str, Any]] = Field(default_factory=list)
    streamed: list[bool] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording-fake"

    @property
    def last_messages(self) -> list[BaseMessage]:
        assert self.calls, "the fake model was never called"
        return self.calls[-1]

    @property
    def last_text(self) -> str:
        """Every message of the last call joined, for easy `in` assertions."""
        return "\n".join(str(m.content) for m in self.last_messages)

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> Runnable:
        if not self.supports_tools:
            raise NotImplementedError("this fake was built without tool support")
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any], streaming: bool) -> AIMessage:
        self.calls.append(list(messages))
        self.call_kwargs.append(dict(kwargs))
        self.streamed.append(streaming)
        if self.script:
            step = self.script.pop(0)
        elif self.default is not None:
            step = self.default
        else:
            raise AssertionError(f"RecordingChatModel script ran out at call {len(self.calls)}")
        if callable(step) and not isinstance(step, (BaseException, type)):
            step = step(list(messages))
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, AIMessage):
            return step
        if isinstance(step, dict):
            tools = kwargs.get("tools") or []
            if tools:
                name = tools[0]["function"]["name"]
                return AIMessage(content="", tool_calls=[{"name": name, "args": step, "id": f"call_{len(self.calls)}"}])
            return AIMessage(content=json.dumps(step))
        return AIMessage(content=str(step))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages, kwargs, False))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        message = self._next(messages, kwargs, True)
        if message.tool_calls:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=[
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)]))
            return
        text = str(message.content)
        for i in range(0, len(text), self.chunk_size):
            piece = text[i:i + self.chunk_size]
            if run_manager:
                run_manager.on_llm_new_token(piece)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def json_reply(**overrides: Any) -> str:
    """A well-formed coach JSON reply as text, with fields overridden."""
    return json.dumps({**VALID_REPLY, **overrides})
