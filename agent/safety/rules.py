"""The guardrail rule set: patterns kept as data in agent/safety/data/guardrails.yaml, validated and compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.core.errors import ConfigError
from agent.core.homes import cache_dir
from agent.core.regexcache import RegexCache
from agent.core.types import SafetyAction, SafetyCategory
from agent.safety.text import Normaliser

_MACRO = re.compile(r"<([a-z_]+)>")
_BLANK = " _ "  # stands in for an excluded idiom so the words around it cannot join into a new match
RULE_CATEGORIES = ("crisis", "harassment", "discrimination", "legal", "medical", "injection", "off_topic")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupSpec(_Strict):
    """Patterns for one named kind of message inside a category."""

    patterns: list[str] = Field(default_factory=list)
    raw_patterns: list[str] = Field(default_factory=list)  # on folded raw text (multiline), for markup like "[INST]"
    exclude: list[str] = Field(default_factory=list)  # idiom spans blanked before this group's patterns run
    unless: list[str] = Field(default_factory=list)  # the group stays silent when any of these matches


class CategorySpec(_Strict):
    action: SafetyAction
    exclude: list[str] = Field(default_factory=list)
    groups: dict[str, GroupSpec]


class NormaliseSpec(_Strict):
    terms: list[str] = Field(default_factory=list)
    fuzzy_terms: list[str] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)
    compounds: dict[str, str] = Field(default_factory=dict)
    phrases: dict[str, str] = Field(default_factory=dict)


class RepliesSpec(_Strict):
    crisis: dict[str, str]
    check_in: dict[str, str]  # self / others / someone_else / danger: one direct question when a message is nearly a crisis
    crisis_language: dict[str, str] = Field(default_factory=dict)
    refer: dict[str, str]
    injection: str
    redirect: dict[str, str]
    repaired: str


class AnswerSpec(_Strict):
    """How a reply to a safety check-in reads: `affirm` wins over `deny` ("no, but sometimes...")."""

    affirm: list[str]  # anywhere in the answer; not `yes`/`no`: YAML 1.1 reads those keys as booleans
    deny: list[str]
    short_affirm: list[str]  # the whole of a short answer ("maybe", "no, I'm fine")
    short_deny: list[str]


class GuardrailsSpec(_Strict):
    """The whole of agent/safety/data/guardrails.yaml."""

    version: int
    macros: dict[str, str] = Field(default_factory=dict)
    normalise: NormaliseSpec
    order: list[str]
    categories: dict[str, CategorySpec]
    document: GroupSpec  # instruction-like lines in retrieved text, beyond the injection category's own
    disclosure: list[str]  # a reply describing its own instructions
    check_in_answers: AnswerSpec
    replies: RepliesSpec

    @model_validator(mode="after")
    def _complete(self) -> GuardrailsSpec:
        if sorted(self.replies.check_in) != ["danger", "others", "self", "someone_else"]:
            raise ValueError("replies.check_in: give exactly self, others, someone_else and danger")
        if not {"self", "others", "someone_else", "danger"} <= set(self.replies.crisis):
            raise ValueError("replies.crisis: give at least self, others, someone_else and danger")
        if sorted(self.order) != sorted(RULE_CATEGORIES) or sorted(self.categories) != sorted(RULE_CATEGORIES):
            raise ValueError(f"order and categories must each list exactly {', '.join(RULE_CATEGORIES)}")
        return self


@dataclass(frozen=True)
class Group:
    name: str
    pattern: re.Pattern[str] | None
    raw: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class Category:
    name: SafetyCategory
    action: SafetyAction
    exclude: re.Pattern[str] | None
    groups: tuple[Group, ...]
    prefilter: re.Pattern[str] | None  # every group pattern at once: one search rules most messages out


@dataclass(frozen=True)
class Match:
    category: SafetyCategory
    action: SafetyAction
    group: str
    span: str


class RuleSet:
    """Compiled rules; `first_match` walks the categories in order and stops at the first hit."""

    def __init__(self, spec: GuardrailsSpec) -> None:
        self.spec = spec
        # Compiling the ~215 alternations costs ~0.3 s per process; their bytecode is cached on disk instead.
        self._re = RegexCache(cache_dir(), "guardrails", [spec.model_dump_json()])
        n = spec.normalise
        self.normalise = Normaliser(n.terms, n.fuzzy_terms, n.protected, n.compounds, n.phrases)
        self.categories = tuple(self._category(name, spec.categories[name]) for name in spec.order)
        self.document = self._group("document", spec.document)
        self.disclosure = self._alternation(spec.disclosure)
        answers = spec.check_in_answers
        self.answer_yes = self._alternation(answers.affirm)
        self.answer_no = self._alternation(answers.deny)
        self.short_yes = self._alternation(answers.short_affirm)
        self.short_no = self._alternation(answers.short_deny)
        self._re.save()

    def _expand(self, pattern: str, seen: tuple[str, ...] = ()) -> str:
        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in self.spec.macros:
                raise ConfigError(f"guardrails: unknown macro <{name}> in pattern {pattern!r}")
            if name in seen:
                raise ConfigError(f"guardrails: macro <{name}> refers to itself")
            body = re.sub(r"\n\s*", "", self.spec.macros[name])  # block scalars wrap long alternations
            return f"(?:{self._expand(body, seen + (name,))})"

        return _MACRO.sub(sub, pattern)

    def _alternation(self, patterns: list[str], flags: int = 0) -> re.Pattern[str] | None:
        if not patterns:
            return None
        expanded = [self._expand(p) for p in patterns]
        # One shared leading \b lets the engine skip mid-word positions once, not once per pattern (3x faster).
        bounded = [p[2:] for p in expanded if p.startswith("\\b")]
        others = [f"(?:{p})" for p in expanded if not p.startswith("\\b")]
        parts = ([r"\b(?:" + "|".join(f"(?:{p})" for p in bounded) + ")"] if bounded else []) + others
        try:
            return self._re.compile("|".join(parts), flags)
        except re.error:
            for original, p in zip(patterns, expanded):  # name the culprit; only paid for on a broken file
                try:
                    re.compile(p, flags)
                except re.error as exc:
                    raise ConfigError(f"guardrails: bad pattern {original!r}: {exc}") from None
            raise

    def _group(self, name: str, g: GroupSpec) -> Group:
        return Group(name, self._alternation(g.patterns), self._alternation(g.raw_patterns, re.MULTILINE),
                     self._alternation(g.exclude), self._alternation(g.unless))

    def _category(self, name: str, c: CategorySpec) -> Category:
        groups = tuple(self._group(g, spec) for g, spec in c.groups.items())
        # Groups with their own exclusions see different text, so they stay out of the shared prefilter.
        prefilter = self._alternation([p for g in c.groups.values() if not g.exclude for p in g.patterns])
        return Category(name, c.action, self._alternation(c.exclude), groups, prefilter)  # type: ignore[arg-type]

    def group_hit(self, group: Group, norm: str, folded: str, patterns: bool = True) -> str | None:
        """The text a group matched in the normalised (or folded raw) message, or None."""
        if group.unless and group.unless.search(norm):
            return None
        m = None
        if patterns and group.pattern:
            m = group.pattern.search(group.exclude.sub(_BLANK, norm) if group.exclude else norm)
        if m is None and group.raw:
            m = group.raw.search(folded)
        return m.group(0).strip() if m else None

    def first_match(self, norm: str, folded: str) -> Match | None:
        """The first category (in rule order) and group whose patterns match."""
        for cat in self.categories:
            text = cat.exclude.sub(_BLANK, norm) if cat.exclude else norm
            possible = cat.prefilter is None or cat.prefilter.search(text) is not None
            for group in cat.groups:
                if not possible and group.exclude is None and group.raw is None:
                    continue
                span = self.group_hit(group, text, folded, patterns=possible or group.exclude is not None)
                if span is not None:
                    return Match(cat.name, cat.action, group.name, span)
        return None


def default_rules_path() -> Path:
    from agent.core.resources import safety_data_dir

    return safety_data_dir() / "guardrails.yaml"


@lru_cache(maxsize=4)
def load_rules(path: Path | None = None) -> RuleSet:
    """Read, validate and compile the rule file once per process."""
    from agent.core.yaml_data import load_model

    spec = load_model(path or default_rules_path(), GuardrailsSpec, "guardrails")
    return RuleSet(spec)
