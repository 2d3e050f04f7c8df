"""The LLM engine: any langchain chat model, a prompt variant, retries, tolerant parsing and a valid draft every time."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from agent.coach import echoes
from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.llm_prompt import build_messages
from agent.coach.parsing import ReplyStreamer, clean_text, coerce, extract_json, meaningful, usable
from agent.core.errors import ProviderError
from agent.core.prompts import load_prompt
from agent.providers.retry import RetryPolicy, call_with_retry, stream_with_retry

FALLBACK_REPLY = "Say a little more about what matters most to you in this."
STREAM_PIECE = 24  # characters per delta when a finished reply is streamed after the fact


class OpenerDraft(BaseModel):
    text: str
    why: str = ""
    cited_id: str = ""


class CommitmentDraft(BaseModel):
    what: str
    by_when: str = ""
    measure: str = ""


class CoachReply(BaseModel):
    """The coach's answer for this turn."""

    reply: str = Field(description="reflection, then at most one open question")
    question: str = Field("", description="the one open question, or empty")
    cited_ids: list[str] = Field(default_factory=list)
    phase: Literal["goal", "reality", "options", "will", "closed"] = "goal"
    openers: list[OpenerDraft] = Field(default_factory=list)
    commitment: CommitmentDraft | None = None


def make_canary() -> str:
    try:
        from agent.safety.guard import make_canary as guarded
    except ImportError:
        return f"cnry-{secrets.token_hex(6)}"
    return guarded()


def prompt_hash(messages: list[Any]) -> str:
    payload = json.dumps([[m.type, str(m.content)] for m in messages], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _tool_args_text(message: Any) -> str:
    if getattr(message, "tool_calls", None):
        return json.dumps(message.tool_calls[0]["args"], ensure_ascii=False)
    bad = getattr(message, "invalid_tool_calls", None)
    if bad:
        return str(bad[0].get("args") or "")
    return ""


class LLMEngine:
    """Implements Engine over a chat model; structured output via tool calling when the model has tools."""

    name = "llm"

    def __init__(self, chat_model: Any, settings: Any, variant: str | None = None, *, store: Any = None,
                 retry_policy: RetryPolicy | None = None, structured: bool | None = None):
        from agent.providers.factory import model_name

        self.model = chat_model
        self.settings = settings
        self.spec = load_prompt("coach", variant or settings.prompt_variant)
        self.store = store
        self.policy = retry_policy or RetryPolicy.from_settings(settings)
        self.provider = settings.provider
        self.model_label = model_name(settings)
        self.canary = make_canary()
        self.last_messages: list[Any] = []
        self._tools = self._bind_tools() if structured is not False else None
        self._instructions: str | None = None

    # -- plumbing -------------------------------------------------------------------------------------------
    def _bind_tools(self) -> Any:
        try:
            return self.model.bind_tools([CoachReply], tool_choice="CoachReply")
        except (NotImplementedError, AttributeError, TypeError, ValueError):
            return None

    def build_messages(self, inp: EngineInput) -> list[Any]:
        """The rendered prompt for this input, within settings.context_budget tokens."""
        self.last_messages = build_messages(self.spec, inp, canary=self.canary, budget=self.settings.context_budget)
        return self.last_messages

    def system_prompt(self) -> str:
        """What the model is told besides the conversation (templates unfilled, tool descriptions), for leak checks."""
        if self._instructions is None:
            from langchain_core.utils.function_calling import convert_to_openai_tool

            schema = convert_to_openai_tool(CoachReply) if self._tools is not None else None
            self._instructions = echoes.instruction_text(self.spec, schema)
        return self._instructions

    def _scrub(self, data: dict[str, Any] | None) -> dict[str, Any] | None:
        """Parsed output minus echoes of the prompt's format text, so an echo counts as no answer at all."""
        return echoes.scrub(data, self.system_prompt()) if isinstance(data, dict) else data

    def _visible(self, text: str) -> str:
        """The part of a reply still arriving that the output guardrail would let through."""
        from agent.safety.leaks import visible_part

        return visible_part(text, canary=self.canary, system_prompt=self.system_prompt())

    def _log(self, messages: list[Any], mode: str, response: str, started: float, error: str = "") -> None:
        if self.store is None:
            return
        request = json.dumps({"mode": mode, "variant": self.spec.variant, "prompt": self.spec.fingerprint,
                              "temperature": self.settings.temperature, "max_tokens": self.settings.max_tokens,
                              "messages": [{"role": m.type, "content": str(m.content)} for m in messages]},
                             ensure_ascii=False)
        try:
            self.store.log_call(self.provider, self.model_label, prompt_hash(messages), request, response,
                                int((time.perf_counter() - started) * 1000), error)
        except Exception:  # noqa: BLE001 - the call log is best effort; a full disk must not cost the turn
            pass

    def _runnable(self) -> tuple[Any, str]:
        return (self._tools, "tools") if self._tools is not None else (self.model, "json")

    def _ask(self, messages: list[Any]) -> tuple[str, dict[str, Any] | None]:
        """One model call with retries; returns the raw text and the parsed object (or None)."""
        runnable, mode = self._runnable()
        started = time.perf_counter()
        try:
            message = call_with_retry(lambda: runnable.invoke(messages), provider=self.provider, policy=self.policy)
        except ProviderError as exc:
            if mode == "tools" and "HTTP 400" in str(exc):
                self._tools = self._instructions = None  # this model or server rejects tool calls: plain JSON now
                self._log(messages, mode, "", started, str(exc))
                return self._ask(messages)
            self._log(messages, mode, "", started, str(exc))
            raise
        raw = _tool_args_text(message) or clean_text(str(message.content))
        self._log(messages, mode, raw, started)
        data = message.tool_calls[0]["args"] if getattr(message, "tool_calls", None) else extract_json(raw)
        return raw, self._scrub(data)

    def _repair(self, messages: list[Any], raw: str) -> tuple[str, dict[str, Any] | None]:
        follow_up = [AIMessage(content=raw or "(empty)"), HumanMessage(content=self.spec.render_repair())]
        return self._ask(list(messages) + follow_up)

    def _finish(self, data: dict[str, Any] | None, raw: str, inp: EngineInput) -> EngineOutput:
        from agent.safety.leaks import strip_echoes

        out = coerce(data, strip_echoes(raw, self.system_prompt())[0], inp, fallback=FALLBACK_REPLY)
        if out.reply == FALLBACK_REPLY:
            out = self._offline_turn(inp) or out
        if self.canary and self.canary in out.model_dump_json():
            scrub = json.loads(out.model_dump_json().replace(self.canary, ""))
            out = EngineOutput.model_validate(scrub)
        return out

    @staticmethod
    def _offline_turn(inp: EngineInput) -> EngineOutput | None:
        """The offline engine's grounded turn, for when a weak model gives nothing usable: better than a stock line."""
        from agent.coach.offline import OfflineEngine

        try:
            return OfflineEngine().respond(inp).model_copy(update={"fallback": True})
        except Exception:  # noqa: BLE001 - the stock reply is the last resort, and it always exists
            return None

    # -- Engine ---------------------------------------------------------------------------------------------
    def respond(self, inp: EngineInput) -> EngineOutput:
        messages = self.build_messages(inp)
        raw, data = self._ask(messages)
        if not usable(data):
            raw2, data2 = self._repair(messages, raw)
            if usable(data2) or not raw.strip():
                raw, data = raw2, data2
        return self._finish(data, raw, inp)

    def stream(self, inp: EngineInput) -> Iterator[str | EngineOutput]:
        messages = self.build_messages(inp)
        runnable, mode = self._runnable()
        streamer = ReplyStreamer()
        content, args, sent, decoded = "", "", "", ""
        text_mode: bool | None = None
        started = time.perf_counter()
        try:
            for chunk in stream_with_retry(lambda: runnable.stream(messages), provider=self.provider,
                                           policy=self.policy):
                content += str(chunk.content or "")
                args += "".join(c.get("args") or "" for c in getattr(chunk, "tool_call_chunks", None) or [])
                body = args or content
                if text_mode is None and body.strip():
                    text_mode = not body.lstrip().startswith(("{", "`"))
                if text_mode is not None:
                    decoded = body if text_mode else decoded + streamer.feed(body)
                # Show only what the output guardrail passes: finished sentences with no prompt text or canary.
                shown = self._visible(decoded) if self.canary not in decoded else sent
                if len(shown) > len(sent) and shown.startswith(sent) and meaningful(shown):
                    delta, sent = shown[len(sent):], shown
                    yield delta
        except ProviderError as exc:
            self._log(messages, mode, content or args, started, str(exc))
            if mode == "tools" and not sent and "HTTP 400" in str(exc):
                self._tools = self._instructions = None  # this model or server rejects tool calls: plain JSON now
                yield from self.stream(inp)
                return
            raise
        raw = clean_text(args or content)
        self._log(messages, mode, raw, started)
        data = self._scrub(extract_json(raw))
        if not usable(data) and not text_mode:
            raw2, data2 = self._repair(messages, raw)
            if usable(data2):
                raw, data = raw2, data2
        out = self._finish(data, raw, inp)
        from agent.safety.leaks import check_output

        final = check_output(out.reply, canary=self.canary, system_prompt=self.system_prompt())[0]
        rest = final[len(sent):] if final.startswith(sent) else ("" if sent else final)
        for i in range(0, len(rest), STREAM_PIECE):
            yield rest[i:i + STREAM_PIECE]
        yield out
