"""Chat models for each provider, configured from Settings; our retry layer owns retries, so clients never retry."""

from __future__ import annotations

import os
from typing import Any

from pydantic import SecretStr

from agent.core.errors import ConfigError
from agent.core.homes import expand

DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "ollama": "llama3.2",
    "openai-compatible": "local",
    "llamacpp": "gguf",
}
OLLAMA_URL = "http://127.0.0.1:11434"


def model_name(settings: Any) -> str:
    return settings.model or DEFAULT_MODELS.get(settings.provider, settings.provider)


def _key(settings: Any, env: str) -> SecretStr | None:
    if settings.api_key is not None and settings.api_key.get_secret_value():
        return settings.api_key
    value = os.environ.get(env, "")
    return SecretStr(value) if value else None


def _need_key(settings: Any, env: str) -> SecretStr:
    key = _key(settings, env)
    if key is None:
        raise ConfigError(f"provider {settings.provider} needs an API key: set {env} or COACH_API_KEY")
    return key


def _openai(settings: Any) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=model_name(settings), api_key=_need_key(settings, "OPENAI_API_KEY"),
                      base_url=settings.base_url or None, temperature=settings.temperature,
                      max_tokens=settings.max_tokens, timeout=settings.timeout, max_retries=0)


def _openai_compatible(settings: Any) -> Any:
    from langchain_openai import ChatOpenAI

    if not settings.base_url:
        raise ConfigError("provider openai-compatible needs a base_url, e.g. COACH_BASE_URL=http://127.0.0.1:8080/v1")
    # max_tokens= would be sent as max_completion_tokens, which llama.cpp and others ignore: use the old field.
    return ChatOpenAI(model=model_name(settings), api_key=_key(settings, "OPENAI_API_KEY") or SecretStr("x"),
                      base_url=settings.base_url, temperature=settings.temperature, timeout=settings.timeout,
                      max_retries=0, extra_body={"max_tokens": settings.max_tokens})


def _anthropic(settings: Any) -> Any:
    from langchain_anthropic import ChatAnthropic

    extra = {"base_url": settings.base_url} if settings.base_url else {}
    return ChatAnthropic(model=model_name(settings), api_key=_need_key(settings, "ANTHROPIC_API_KEY"),
                         temperature=settings.temperature, max_tokens=settings.max_tokens,
                         timeout=settings.timeout, max_retries=0, **extra)


def _ollama(settings: Any) -> Any:
    from langchain_ollama import ChatOllama

    return ChatOllama(model=model_name(settings), base_url=settings.base_url or OLLAMA_URL,
                      temperature=settings.temperature, num_predict=settings.max_tokens,
                      client_kwargs={"timeout": settings.timeout})


def _llamacpp(settings: Any) -> Any:
    if not settings.model_path:
        raise ConfigError("provider llamacpp needs model_path: set COACH_MODEL_PATH to a .gguf file")
    path = expand(settings.model_path)
    if not path.is_file():
        raise ConfigError(f"model_path {path} does not exist")
    from agent.providers.llamacpp import LocalLlamaChat

    # The window holds the budgeted prompt, a re-ask (the weak answer plus the repair note) and the new answer.
    n_ctx = settings.context_budget + 2 * settings.max_tokens + REPAIR_HEADROOM
    return LocalLlamaChat(model_path=str(path), max_tokens=settings.max_tokens, temperature=settings.temperature,
                          n_ctx=max(2048, n_ctx))


REPAIR_HEADROOM = 512  # tokens for the repair instruction and chat-format markup


BUILDERS = {
    "openai": _openai,
    "openai-compatible": _openai_compatible,
    "anthropic": _anthropic,
    "ollama": _ollama,
    "llamacpp": _llamacpp,
}


def build_chat_model(settings: Any) -> Any:
    """A langchain BaseChatModel for settings.provider; a missing key, URL or model file is a ConfigError."""
    builder = BUILDERS.get(settings.provider)
    if builder is None:
        raise ConfigError(f"provider {settings.provider} has no chat model (choose one of {', '.join(BUILDERS)})")
    return builder(settings)
