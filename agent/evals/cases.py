"""Eval cases are YAML data, promptfoo-style: vars, user turns (or an openers request) and assertions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent.core.errors import ConfigError
from agent.core.resources import evals_dir

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
YAML_SUITES = ("coaching", "openers", "grounding", "heldout")
# Extra files a suite reads beyond evals/<suite>/*.yaml; `heldout` is the blind split, run on demand only.
EXTRA_FILES = {"coaching": ("coaching/conversations/dev.yaml",), "heldout": ("coaching/conversations/heldout.yaml",)}
FILE_SUITE = {"heldout": "coaching"}  # the suite name the files declare


class Assertion(BaseModel):
    """One check on a case run: `type` (prefix 'not-' to negate), an optional value, threshold and weight."""

    model_config = ConfigDict(extra="forbid")

    type: str
    value: Any = None
    threshold: float | None = None
    weight: float = Field(1.0, ge=0)
    turn: Literal["any", "all", "first", "last"] | int | None = None  # which coach turns; None = the type's default
    metric: str | None = None  # a name to report this assertion's score under

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        from agent.evals.asserts import ASSERT_TYPES

        base = v.removeprefix("not-")
        if base not in ASSERT_TYPES:
            raise ValueError(f"unknown assertion type {v!r} (known: {', '.join(sorted(ASSERT_TYPES))})")
        return v


TURN_TAGS = frozenset({"pushback", "advice_request", "topic_change", "action_named", "no_goal_yet", "goal_stated",
                       "coach_prep", "terse", "rambling", "non_native", "unsure"})


class Turn(BaseModel):
    """One user message; `new_session` starts a fresh session before it (to test follow-up on commitments).

    Conversation files write a turn as a mapping `{say, tags, facts, not_said}` for the meaning graders.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    user: str = Field(min_length=1, alias="say")
    new_session: bool = False
    tags: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)  # what a faithful reflection may use
    not_said: list[str] = Field(default_factory=list)  # feelings a careless coach might invent

    @model_validator(mode="before")
    @classmethod
    def _user_or_say(cls, v: Any) -> Any:
        if isinstance(v, dict) and "user" in v and "say" not in v:
            v = {**v, "say": v["user"]}
            v.pop("user")
        return v

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - TURN_TAGS)
        if unknown:
            raise ValueError(f"unknown turn tag(s) {', '.join(unknown)} (known: {', '.join(sorted(TURN_TAGS))})")
        return v


class OpenersRequest(BaseModel):
    """Ask the coach for conversation openers about a peer relationship."""

    model_config = ConfigDict(extra="forbid")

    situation: str = Field(min_length=1)
    peer: str = ""
    k: int = Field(3, ge=1, le=10)


class Case(BaseModel):
    """One scenario: turns for the coach (or an openers request), the vars describing it, and assertions."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    description: str = ""
    vars: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn] = Field(default_factory=list)
    openers: OpenersRequest | None = None
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"case id {v!r} must be lower-case letters, digits, '-' or '_'")
        return v

    @field_validator("turns", mode="before")
    @classmethod
    def _strings_are_turns(cls, v: Any) -> Any:
        return [{"say": t} if isinstance(t, str) else t for t in (v or [])]

    @model_validator(mode="after")
    def _has_work(self) -> Case:
        if not self.turns and self.openers is None:
            raise ValueError(f"case {self.id} has neither turns nor an openers request")
        return self

    @property
    def ends_with_commitment(self) -> bool:
        return bool(self.vars.get("ends_with_commitment"))


class Defaults(BaseModel):
    """Vars and assertions every case of a file gets (a case's own assertion of the same type wins)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    vars: dict[str, Any] = Field(default_factory=dict)
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")


class SuiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str
    description: str = ""
    defaults: Defaults = Field(default_factory=Defaults)
    cases: list[Case] = Field(min_length=1)


class Suite(BaseModel):
    """All cases of one suite, defaults merged and vars substituted."""

    name: str
    cases: list[Case]


def substitute(text: str, values: dict[str, Any]) -> str:
    """Replace {{name}} with the var's value; an unknown name raises ConfigError."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise ConfigError(f"case text uses {{{{{m.group(1)}}}}} but no such var is set")
        return str(values[m.group(1)])

    return _VAR.sub(one, text)


def merge(case: Case, defaults: Defaults) -> Case:
    """A case with the file's defaults applied and its vars substituted into turns and openers."""
    values = {**defaults.vars, **case.vars}
    own = {a.type for a in case.assert_}
    asserts = list(case.assert_) + [a for a in defaults.assert_ if a.type not in own]
    turns = [t.model_copy(update={"user": substitute(t.user, values)}) for t in case.turns]
    openers = case.openers
    if openers is not None:
        openers = openers.model_copy(update={"situation": substitute(openers.situation, values),
                                             "peer": substitute(openers.peer, values)})
    return case.model_copy(update={"vars": values, "assert_": asserts, "turns": turns, "openers": openers})


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))


def load_file(path: Path) -> SuiteFile:
    """Read and validate one suite file; any problem is a one-line ConfigError naming the file."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"eval file {path.name}: cannot read: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"eval file {path.name}: must be a mapping with suite and cases")
    try:
        return SuiteFile(**data)
    except ValidationError as exc:
        raise ConfigError(f"eval file {path.name}: {_first_error(exc)}") from None


def suite_dir(name: str, root: Path | None = None) -> Path:
    return (root or evals_dir()) / name


def load_suite(name: str, root: Path | None = None) -> Suite:
    """Every case in evals/<name>/*.yaml, defaults merged; duplicate ids or a wrong suite name are errors."""
    folder = suite_dir(name, root)
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    files += [p for rel in EXTRA_FILES.get(name, ()) if (p := (root or evals_dir()) / rel).exists()]
    if not files:
        raise ConfigError(f"no eval cases for suite {name!r} in {folder}")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in files:
        sf = load_file(path)
        if sf.suite != FILE_SUITE.get(name, name):
            raise ConfigError(f"eval file {path.name}: declares suite {sf.suite!r} but lives in {name}/")
        for case in sf.cases:
            if case.id in seen:
                raise ConfigError(f"eval file {path.name}: case id {case.id!r} already used in {seen[case.id]}")
            seen[case.id] = path.name
            cases.append(merge(case, sf.defaults))
    return Suite(name=name, cases=cases)
