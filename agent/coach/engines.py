"""Which engine runs the coach's turns: the offline engine, or an LLMEngine around a provider's chat model."""

from __future__ import annotations

from typing import Any


def build_engine(settings: Any, chat_model: Any | None = None, store: Any | None = None) -> Any:
    """The offline engine for provider "offline" (unless a chat model is given), else an LLMEngine."""
    if settings.provider == "offline" and chat_model is None:
        from agent.coach.offline import OfflineEngine

        return OfflineEngine()
    from agent.coach.llm_engine import LLMEngine
    from agent.providers.factory import build_chat_model

    return LLMEngine(chat_model or build_chat_model(settings), settings, store=store)
