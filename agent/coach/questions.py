"""The question bank (agent/coach/data/question_bank.yaml): schema, rendering, which template a question came from."""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, field_validator, model_validator

from agent.core.errors import ConfigError
from agent.core.resources import coach_data_dir
from agent.core.yaml_data import load_model

PHASES = ("goal", "reality", "options", "will")
QUESTION_VARS = {"peer", "their_words", "topic"}
TEMPLATE_VARS = {
    "simple": {"event"},
    "simple_other": {"event"},
    "options": {"option_a", "option_b"},
    "feeling": {"event", "feeling"},
    "named_feeling": {"event", "feeling"},
    "feeling_only": {"feeling"},
    "meaning": {"event", "value"},
    "want": {"goal"},
    "reframe": {"noun", "value"},
    "double": {"side_a", "side_b"},
    "part_of_you": {"side_a", "side_b"},
    "second": {"value", "feeling"},
    "asking": {"question"},
    "acknowledge": set(),
    "advice_ack": set(),
    "invite": {"idea", "n"},
    "invite_question": set(),
    "advice": {"idea", "n"},
    "advice_question": set(),
    "no_idea": set(),
    "permission": set(),
    "openers_note": {"peer", "n"},
    "injection": set(),
    "open_commitment": {"what", "by_when"},
    "confirm": {"what", "by_when"},
    "confirm_measure": {"measure"},
    "confirm_success": {"measure"},
    "ask_measure": set(),
    "ask_by_when": set(),
    "next_topic": set(),
    "obstacle": {"what"},
    "past_topic": {"topic"},
}
OPEN_STEMS = ("what", "how", "which", "who", "where", "when", "why", "tell me", "describe")
CLOSED_STARTS = ("do", "does", "did", "is", "are", "was", "were", "can", "could", "would", "will", "should",
                 "have", "has", "shall", "may", "might", "am")


def variables(template: str) -> set[str]:
    """The {names} a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, **values: str) -> str:
    """Fill a template; a missing variable is a ConfigError naming it."""
    missing = sorted(variables(template) - {k for k, v in values.items() if v is not None})
    if missing:
        raise ConfigError(f"template variable(s) {', '.join(missing)} missing for: {template[:60]}")
    return template.format(**values)


def is_open_question(text: str) -> bool:
    """An invitation ('tell me...'), or a question with an open stem that does not open like a yes/no one."""
    low = text.strip().lower()
    if low.startswith(("tell me", "describe")) and low.endswith((".", "?")):
        return True
    if not low.endswith("?"):
        return False
    words = re.findall(r"[a-z']+", low)
    if not words or words[0] in CLOSED_STARTS:
        return False
    head = " ".join(words[:16])
    return any(re.search(rf"\b{stem}\b", head) for stem in OPEN_STEMS)


def normalise(question: str) -> str:
    """Lower case, quotes and punctuation dropped, spaces collapsed: the form used to spot repeats."""
    return " ".join(re.findall(r"[a-z0-9]+", question.lower().replace("’", "'").replace("'", "")))


class QuestionBank(BaseModel):
    """agent/coach/data/question_bank.yaml: questions[situation][phase] and the sentence templates around them."""

    name: str
    version: int
    questions: dict[str, dict[str, list[str]]]
    templates: dict[str, list[str]]

    @field_validator("questions")
    @classmethod
    def _check_questions(cls, v: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        if "general" not in v:
            raise ValueError("a 'general' situation is required")
        for sit, phases in v.items():
            for phase in PHASES:
                if len(phases.get(phase, [])) < 3:
                    raise ValueError(f"{sit}.{phase} needs at least 3 questions")
            for phase, items in phases.items():
                if phase not in PHASES:
                    raise ValueError(f"{sit}: unknown phase {phase!r}")
                for q in items:
                    extra = variables(q) - QUESTION_VARS
                    if extra:
                        raise ValueError(f"{sit}.{phase}: unknown variable {sorted(extra)} in {q!r}")
                    if not is_open_question(q):
                        raise ValueError(f"{sit}.{phase}: not an open question: {q!r}")
        return v

    @model_validator(mode="after")
    def _check_templates(self) -> QuestionBank:
        for kind, allowed in TEMPLATE_VARS.items():
            items = self.templates.get(kind)
            if not items:
                raise ValueError(f"templates.{kind} is missing")
            for t in items:
                extra = variables(t) - allowed
                if extra:
                    raise ValueError(f"templates.{kind}: unknown variable {sorted(extra)} in {t!r}")
        return self

    def for_phase(self, situation: str, phase: str) -> list[str]:
        """The questions for a situation and phase (general's when the situation has none)."""
        return self.questions.get(situation, self.questions["general"]).get(phase, [])

    def template(self, kind: str, index: int = 0) -> str:
        """One of the templates of a kind, rotating by index so consecutive turns vary."""
        items = self.templates[kind]
        return items[index % len(items)]


def opens_any(template: str, asked: set[str]) -> bool:
    """Whether a question in `asked` (normalised) opens as the template does, before its first variable."""
    lead = normalise(template.split("{", 1)[0])
    return any(a.startswith(lead) for a in asked)


@lru_cache(maxsize=1)
def default_path() -> str:
    return str(coach_data_dir() / "question_bank.yaml")


def load_bank(path: Path | None = None) -> QuestionBank:
    """The validated question bank; a broken file is a one-line ConfigError."""
    return _load(str(path) if path else default_path())


@lru_cache(maxsize=4)
def _load(path: str) -> QuestionBank:
    return load_model(path, QuestionBank, "question bank")


@lru_cache(maxsize=2048)
def _pattern(template: str) -> re.Pattern[str]:
    """A regex matching any rendering of a template, on its normalised form."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("^" + r"\s*.*?\s*".join(re.escape(normalise(p)) for p in parts) + "$")


Where = tuple[str, str, str]


@lru_cache(maxsize=4)
def _index(path: str) -> tuple[dict[str, Where], list[tuple[re.Pattern[str], Where]]]:
    bank = _load(path)
    exact: dict[str, tuple[str, str, str]] = {}
    patterns = []
    for sit, phases in bank.questions.items():
        for phase, items in phases.items():
            for t in items:
                if variables(t):
                    patterns.append((_pattern(t), (sit, phase, t)))
                else:
                    exact.setdefault(normalise(t), (sit, phase, t))
    return exact, patterns


def template_of(question: str, path: Path | None = None) -> tuple[str, str, str] | None:
    """(situation, phase, template) a question was rendered from, or None when it is not from the bank."""
    return _template_of(question, str(path) if path else default_path())


@lru_cache(maxsize=8192)
def _template_of(question: str, path: str) -> tuple[str, str, str] | None:
    exact, patterns = _index(path)
    norm = normalise(question)
    if norm in exact:
        return exact[norm]
    for pattern, where in patterns:
        if pattern.match(norm):
            return where
    return None
