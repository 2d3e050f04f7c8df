"""How a person asks for advice (agent/coach/data/advice_requests.yaml), as case-insensitive whole-word regexes."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, Field, field_validator

from agent.core.resources import coach_data_dir
from agent.core.yaml_data import check_regexes, load_model


class AdviceRequests(BaseModel):
    """agent/coach/data/advice_requests.yaml: phrases (regular expressions) that ask for advice, and that say 'I don't know'."""

    name: str
    version: int
    requests: list[str] = Field(min_length=1)
    unsure: list[str] = Field(default_factory=list)
    pushback: dict[str, list[str]] = Field(default_factory=dict)  # kind of pushback -> phrases

    @field_validator("pushback")
    @classmethod
    def _pushback_compiles(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for phrases in v.values():
            check_regexes(phrases, "pushback phrase")
        return v

    @field_validator("requests", "unsure")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        check_regexes(v, "phrase")
        return v


@lru_cache(maxsize=4)
def load_requests(path: str = "") -> AdviceRequests:
    """The validated phrases; a broken file is a one-line ConfigError."""
    return load_model(path or coach_data_dir() / "advice_requests.yaml", AdviceRequests, "advice requests file")


def _any(phrases: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.I)


@lru_cache(maxsize=4)
def request_pattern(path: str = "") -> re.Pattern[str]:
    """Any request phrase ('what should I do', 'any tips', 'yes please')."""
    return _any(load_requests(path).requests)


@lru_cache(maxsize=4)
def request_or_unsure_pattern(path: str = "") -> re.Pattern[str]:
    """Any request or 'I don't know' phrase: the words of a message that say nothing about the situation."""
    data = load_requests(path)
    return _any(data.requests + data.unsure)


def asks_for_advice(text: str) -> bool:
    """Whether the text asks for advice or accepts an offered idea."""
    return bool(request_pattern().search(text))


@lru_cache(maxsize=4)
def _pushback_patterns(path: str = "") -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for kind, phrases in load_requests(path).pushback.items():
        if not phrases:
            continue
        pattern = _any(phrases)
        if kind == "unsure":  # "I don't know." answers the coach; "not sure I like it" is their news, not pushback
            pattern = re.compile(f"(?:{pattern.pattern})(?=\\s*(?:[.,;!?]|$|\\s+(?:yet|really|honestly|tbh)\\s*[.,;!?]?$))",
                                 pattern.flags)
        out.append((kind, pattern))
    return tuple(out)


def pushback_kind(text: str) -> str:
    """The kind of pushback in the text ('unsure', 'off_track', 'impatient'), or '' when there is none."""
    said = text.replace("\u2019", "'")
    return next((kind for kind, pattern in _pushback_patterns() if pattern.search(said)), "")
