"""Prompts are data: prompts/<name>.<variant>.yaml, validated by a schema and rendered strictly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.core.errors import ConfigError
from agent.core.resources import prompts_dir

# Only {identifier} is a placeholder, so literal JSON such as {"reply": "..."} in a template stays literal.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z0-9_\-]+$")


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, in order of first use."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(template)))


def format_value(value: Any) -> str:
    """How a variable appears in a prompt: lists as bullet lines, empty values as '(none)'."""
    if value is None or value == "" or value == []:
        return "(none)"
    if isinstance(value, (list, tuple)):
        return "\n".join(f"- {v}" for v in value)
    return str(value)


def fill(template: str, values: dict[str, Any]) -> str:
    """Substitute every {name}; a name without a value raises ConfigError naming all the missing ones."""
    missing = [n for n in placeholders(template) if n not in values]
    if missing:
        raise ConfigError(f"prompt variable(s) missing: {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda m: format_value(values[m.group(1)]), template)


class PromptSpec(BaseModel):
    """One prompt variant: a system template, a user template and the variables they may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    variant: str
    description: str
    variables: list[str]
    system: str
    user: str
    repair: str = ""  # the re-ask sent once when the model's reply was not the JSON asked for
    extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name", "variant")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} must be lower-case letters, digits, '-' or '_'")
        return v

    @model_validator(mode="after")
    def _declared(self) -> PromptSpec:
        used = placeholders(self.system) + placeholders(self.user) + placeholders(self.repair)
        undeclared = sorted(set(used) - set(self.variables))
        if undeclared:
            raise ValueError(f"template uses undeclared variable(s): {', '.join(undeclared)}")
        return self

    @property
    def fingerprint(self) -> str:
        """A short hash of the templates, so logs and eval reports can tell prompt versions apart."""
        raw = "\x00".join([self.system, self.user, self.repair])
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def _check(self, values: dict[str, Any]) -> None:
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise ConfigError(f"prompt {self.name}.{self.variant}: variable(s) missing: {', '.join(missing)}")

    def render_system(self, **values: Any) -> str:
        self._check(values)
        return fill(self.system, values)

    def render(self, **values: Any) -> list:
        """The system and user messages; raises ConfigError naming any declared variable not given."""
        from langchain_core.messages import HumanMessage, SystemMessage

        self._check(values)
        return [SystemMessage(content=fill(self.system, values)), HumanMessage(content=fill(self.user, values))]

    def render_repair(self, **values: Any) -> str:
        """The follow-up that asks once more for valid JSON."""
        template = self.repair or "Reply again with only the JSON object described in the instructions."
        return fill(template, values)


def prompt_path(name: str, variant: str = "default", folder: Path | None = None) -> Path:
    return (folder or prompts_dir()) / f"{name}.{variant}.yaml"


def list_variants(name: str, folder: Path | None = None) -> list[str]:
    """Every variant of prompt `name` found in the prompts folder, sorted."""
    base = folder or prompts_dir()
    if not base.is_dir():
        return []
    return sorted(p.name[len(name) + 1:-len(".yaml")] for p in base.glob(f"{name}.*.yaml"))


def load_prompt(name: str, variant: str = "default", folder: Path | None = None) -> PromptSpec:
    """Read and validate prompts/<name>.<variant>.yaml; any problem is a one-line ConfigError."""
    from agent.core.yaml_data import load_model  # imports yaml, which only loading needs

    path = prompt_path(name, variant, folder)
    if not path.is_file():
        known = ", ".join(list_variants(name, folder)) or "none"
        raise ConfigError(f"no prompt {name}.{variant} in {path.parent} (variants: {known})")
    spec = load_model(path, PromptSpec, "prompt")
    if (spec.name, spec.variant) != (name, variant):
        raise ConfigError(f"prompt {path.name} declares {spec.name}.{spec.variant}; the file name must match")
    return spec
