"""What an eval runs against: a provider + model + prompt variant, its Coach, its cassette player, its searcher."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agent.core.errors import ConfigError
from agent.core.types import Hit, Opener


class Target(BaseModel):
    """One side of an eval: the offline coach, or a provider's model, with a prompt variant."""

    provider: str = "offline"
    model: str = ""
    prompt_variant: str = "default"

    @property
    def name(self) -> str:
        who = self.provider + (f":{self.model}" if self.model else "")
        return f"{who}/{self.prompt_variant}"


def target_settings(base: Any, target: Target, home: Path | None = None) -> Any:
    """Settings for a target; home points the case's store at its own folder."""
    from agent.core.settings import PROVIDERS

    if target.provider not in PROVIDERS:
        raise ConfigError(f"unknown provider {target.provider!r} (choose one of {', '.join(PROVIDERS)})")
    update: dict[str, Any] = {"provider": target.provider, "prompt_variant": target.prompt_variant}
    if target.model:
        update["model"] = target.model
    if home is not None:
        update["home"] = home
    return base.model_copy(update=update)


class SearchSpy:
    """Wraps the searcher the Coach uses and keeps what it returned since the last reset (the turn's retrieved set)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._hits: list[Hit] = []

    def search(self, query: str, k: int = 4, *args: Any, **kwargs: Any) -> list[Hit]:
        hits = self.inner.search(query, k, *args, **kwargs)
        self._hits.extend(hits)
        return hits

    def reset(self) -> None:
        self._hits = []

    def take(self) -> list[Hit]:
        hits, self._hits = self._hits, []
        return hits

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def chat_model_for(settings: Any, cassettes: Path, record: bool, sample: int = 0) -> Any:
    """None for the offline coach; otherwise a cassette player (replay), or a recorder around the real model."""
    if settings.provider == "offline":
        return None
    from agent.evals.cassette import CassetteChatModel, cassette_path
    from agent.providers.factory import build_chat_model, model_name

    name = model_name(settings)
    inner = build_chat_model(settings) if record else None
    return CassetteChatModel(path=cassette_path(cassettes, settings.provider, name), provider=settings.provider,
                             model=name, mode="record" if record else "replay", inner=inner, sample=sample,
                             params={"temperature": settings.temperature, "max_tokens": settings.max_tokens})


def make_coach(settings: Any, searcher: Any, chat_model: Any) -> tuple[Any, Any]:
    """The real Coach for one case, with its own store; returns (coach, store) so the caller can close the store."""
    from agent.coach.pipeline import Coach
    from agent.store.memory import open_store

    store = open_store(settings)
    return Coach(settings, searcher=searcher, store=store, chat_model=chat_model), store


def coach_openers(coach: Any, situation: str, peer: str, k: int) -> list[Opener]:
    """coach.openers(situation, k), passing the peer too when the Coach accepts it."""
    params = inspect.signature(coach.openers).parameters
    if "peer" in params:
        return list(coach.openers(situation, k=k, peer=peer))
    return list(coach.openers(situation, k=k))


def leak_context(coach: Any, variant: str) -> tuple[str, str]:
    """(canary, system prompt template) of an LLM-backed Coach, for the leak check; empty for the offline engine."""
    engine = getattr(coach, "engine", None)
    canary = str(getattr(engine, "canary", "") or "")
    if not canary:
        return "", ""
    try:
        from agent.core.prompts import load_prompt

        return canary, load_prompt("coach", variant).system
    except Exception:
        return canary, ""


def close(store: Any) -> None:
    fn = getattr(store, "close", None)
    if callable(fn):
        fn()
