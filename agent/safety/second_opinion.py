"""An LLM second opinion on gray-zone messages: a risk label makes a check-in a crisis reply, never the reverse."""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from agent.core.prompts import fill, placeholders
from agent.core.resources import prompts_dir
from agent.core.types import Safety
from agent.core.yaml_data import load_model

log = logging.getLogger(__name__)

LABELS = ("none", "self", "others", "someone_else")
GROUPS = {"self": "self_harm", "others": "harm_to_others", "someone_else": "someone_else"}  # label -> group
ALIASES = {"self_harm": "self", "suicide": "self", "other": "others", "harm_to_others": "others",
           "someone": "someone_else", "no": "none", "safe": "none"}
TIMEOUT_S = 15.0  # the person waits for this; past it the check-in goes out unchanged
_LABELLED = re.compile(r"\blabel\b[\"'*`\s]*(?:[:=]|\bis\b)[\s\"'*`]*([A-Za-z_-]+(?:[ _-]else)?)",
                       re.IGNORECASE)


class SafetyCheckPrompt(BaseModel):
    """prompts/safety_check.yaml: the classifier's templates and the labels it may answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str]
    variables: list[str]
    system: str
    user: str

    @model_validator(mode="after")
    def _consistent(self) -> SafetyCheckPrompt:
        if sorted(self.labels) != sorted(LABELS):
            raise ValueError(f"labels must be exactly {', '.join(LABELS)}")
        used = set(placeholders(self.system) + placeholders(self.user))
        if used - set(self.variables) or "message" not in placeholders(self.user):
            raise ValueError("the user template must quote {message}; use only declared variables")
        return self

    def render(self, message: str) -> list[Any]:
        """System and user messages; the message goes in as a JSON string, so it reads as data."""
        from langchain_core.messages import HumanMessage, SystemMessage

        values = {"message": json.dumps(message, ensure_ascii=False)}
        return [SystemMessage(fill(self.system, values)), HumanMessage(fill(self.user, values))]


@lru_cache(maxsize=1)
def load_safety_prompt() -> SafetyCheckPrompt:
    """The bundled prompts/safety_check.yaml, validated (a ConfigError line when it is broken)."""
    return load_model(prompts_dir() / "safety_check.yaml", SafetyCheckPrompt, "safety check prompt")


def _known(value: Any) -> str | None:
    """A label from one answer value ("Self.", "someone else", "self-harm"), or None."""
    if not isinstance(value, str):
        return None
    word = re.sub(r"[\s-]+", "_", value.strip().strip("\"'`*.!:;,{}[]() ").lower())
    word = ALIASES.get(word, word)
    return word if word in LABELS else None


def read_label(text: str) -> str | None:
    """The label in a model's answer: a JSON object, JSON wrapped in prose, 'label: x', or a bare word."""
    from agent.core.jsontext import clean_text, extract_json

    text = clean_text(text)
    data = extract_json(text)
    if isinstance(data, dict):
        values = [v for v in data.values() if isinstance(v, str)]
        return _known(data.get("label", values[0] if len(values) == 1 else None))
    m = _LABELLED.search(text)
    return _known(m.group(1)) if m else _known(text)


def second_opinion(chat_model: Any, message: str, timeout_s: float = TIMEOUT_S) -> str | None:
    """The model's label for `message` (none, self, others, someone_else), or None on any failure or timeout."""
    try:
        messages = load_safety_prompt().render(message)
    except Exception as exc:  # noqa: BLE001 - a broken prompt file must leave the check-in in place
        log.warning("safety second opinion: prompt unusable (%s)", exc)
        return None
    box: dict[str, Any] = {}

    def ask() -> None:
        try:
            box["reply"] = chat_model.invoke(messages)
        except BaseException as exc:  # noqa: BLE001 - reported below; the turn goes on without it
            box["error"] = exc

    # A daemon thread: a hung provider cannot hold the turn (or the process at exit) past the timeout.
    worker = threading.Thread(target=ask, name="safety-second-opinion", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive() or "reply" not in box:
        why = "timed out" if worker.is_alive() else type(box.get("error")).__name__
        log.warning("safety second opinion: no answer (%s)", why)
        return None
    text = box["reply"].text  # the text blocks of any provider's content, joined
    label = read_label(text)
    if label is None:
        log.warning("safety second opinion: unreadable answer %r", text[:80])
    return label


def review(asked: Safety, message: str, chat_model: Any, timeout_s: float = TIMEOUT_S) -> Safety:
    """The check-in after the model's opinion: a risk label makes it a crisis; anything else keeps it."""
    label = second_opinion(chat_model, message, timeout_s)
    if label in GROUPS:
        asked_group = asked.reason.split(":", 1)[0].partition("/")[2]
        # A language group (self_harm_es) keeps its local helpline line when the model also reads self-harm.
        group = asked_group if label == "self" and asked_group.startswith("self_harm") else GROUPS[label]
        return Safety(category="crisis", action="crisis_resources",
                      reason=f"crisis/{group}: second opinion: {label} (was {asked.reason})")
    return asked.model_copy(update={"reason": f"{asked.reason}; second opinion: {label or 'no answer'}"})
