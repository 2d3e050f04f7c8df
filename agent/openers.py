"""Radical-ownership openers for a named peer relationship: who it is, how they stand, what to say first."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError, field_validator

from agent.coach.questions import is_open_question, render, variables
from agent.errors import ConfigError
from agent.resources import prompts_dir
from agent.types import Citation, Hit, Opener

Stance = Literal["conflict", "sponsor", "neutral"]
OWNERSHIP = ("i realise", "i realize", "my part", "on me", "my doing", "down to me", "i haven't",
             "i've noticed i", "my blind spots", "i've been")
STANCE_TAGS: dict[str, frozenset[str]] = {  # corpus front-matter tags of the notes each stance leans on
    "conflict": frozenset({"radical-ownership", "repair", "openers"}),
    "sponsor": frozenset({"sponsors", "anti-sponsors", "detractors"}),
    "neutral": frozenset({"peer-map", "stakeholders", "motivation"}),
}
_CONFLICT = re.compile(
    r"\b(?:anti-?sponsor|against me|undermin\w*|block\w*|resist\w*|clash\w*|conflict|tension|friction|"
    r"hostile|"
    r"competi\w*|dismissive|argu\w+|sceptic\w*|skeptic\w*|doesn't\s+trust|does\s+not\s+trust|don't\s+trust|"
    r"ignores?|shut\s+me\s+out|left\s+me\s+out|talks\s+over|resent\w*|frustrat\w*|annoy\w*|difficult|"
    r"detractor)\b",
    re.I)
_SPONSOR = re.compile(
    r"\b(?:sponsors?|supports?\s+me|supportive|champions?|advocates?|mentor|ally|allies|in\s+my\s+corner|"
    r"backs\s+me|vouch\w*|speaks?\s+up\s+for\s+me|has\s+my\s+back)\b", re.I)
_NAME_AFTER = re.compile(
    r"\b(?:with|to|and|about|from|for|named|called|peer|colleague|counterpart|sponsor|ally|is|,)\s+"
    r"([A-Z][a-z]{1,20}(?:\s+[A-Z][a-z]{1,20})?)(?='s\b|\b)")
_NAME_START = re.compile(r"(?:^|[.!?]\s+)([A-Z][a-z]{1,20})(?:,[^,]{2,40},)?\s+(?:keeps|is|has|was|won't|"
                         r"doesn't|never|always|said|says|told|thinks|seems|ignores|blocks|undermines|supports|"
                         r"just)\b")
_ROLE = re.compile(
    r"\b(my|our|the|a|an|another)\s+((?:(?:fellow|other)\s+)?(?:peer|counterpart|colleague|opposite\s+number|"
    r"manager|director|lead)\s+(?:in|from|at|over\s+in)\s+(?:the\s+)?(?!my\b|our\b|your\b|the\b)[a-z]+"
    r"(?:\s+(?:team|department|group))?"
    r"|head\s+of\s+[a-z]+|vp\s+of\s+[a-z]+|director\s+of\s+[a-z]+|chief\s+[a-z]+\s+officer|c[a-z]o"
    r"|[a-z]+\s+(?:lead|director|head)|(?:fellow|other)\s+manager|peer|counterpart|colleague|manager|boss"
    r"|skip-level)\b",
    re.I)
_NOT_NAMES = {
    "I", "I'm", "I've", "I'll", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "The", "My", "Our", "We", "They", "He", "She", "It", "This", "That", "What",
    "How", "When", "Why", "Which", "Who", "But", "And", "So", "If", "Then", "Now", "Today", "Tomorrow",
    "Yesterday", "Hi", "Hello", "Thanks", "Yes", "No", "Maybe", "Also", "Just", "Still", "Even", "Sales",
    "Finance", "Marketing", "Engineering", "Product", "Operations", "Legal", "Support", "Design", "HR", "CEO",
    "CTO", "CFO", "VP", "Q1", "Q2", "Q3", "Q4", "Slack", "Teams", "Zoom", "Jira", "English",
}


class OpenerTemplate(BaseModel):
    """One opener: what to say and why it works."""

    text: str
    why: str

    @field_validator("text")
    @classmethod
    def _radical_ownership(cls, v: str) -> str:
        extra = variables(v) - {"greeting"}
        if extra:
            raise ValueError(f"unknown variable {sorted(extra)} in {v!r}")
        low = v.lower()
        if not any(mark in low for mark in OWNERSHIP):
            raise ValueError(f"opener does not own the speaker's part: {v!r}")
        last = re.split(r"(?<=[.!;])\s+", v.strip())[-1]
        if not is_open_question(last):
            raise ValueError(f"opener must end with an open question: {v!r}")
        return v


class OpenerFile(BaseModel):
    """prompts/openers.yaml."""

    name: str
    version: int
    stances: dict[Stance, list[OpenerTemplate]]

    @field_validator("stances")
    @classmethod
    def _three_each(cls, v: dict[str, list[OpenerTemplate]]) -> dict[str, list[OpenerTemplate]]:
        for stance in ("conflict", "sponsor", "neutral"):
            if len(v.get(stance, [])) < 3:
                raise ValueError(f"stance {stance!r} needs at least 3 openers")
        return v


@lru_cache(maxsize=4)
def load_openers(path: str = "") -> OpenerFile:
    """The validated opener templates; a broken file is a one-line ConfigError."""
    where = Path(path) if path else prompts_dir() / "openers.yaml"
    try:
        return OpenerFile.model_validate(yaml.safe_load(where.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"openers file {where} is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"openers file {where} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(f"openers file {where}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def extract_peer(message: str) -> str:
    """The person ('Priya') or role ('the head of sales') a message is about, or ''."""
    text = message.replace("’", "'")
    for pattern in (_NAME_AFTER, _NAME_START):
        for m in pattern.finditer(text):
            name = m.group(1)
            first = name.split()[0]
            if first not in _NOT_NAMES and name not in _NOT_NAMES:
                return name if name.split()[-1] not in _NOT_NAMES else first
    m = _ROLE.search(text)
    if m:
        det, role = m.group(1).lower(), " ".join(m.group(2).split())
        if det == "another":
            return "the other " + role
        if det in ("my", "our") and re.match(r"(?i)(peer|counterpart|colleague|boss|fellow|other|manager)",
                                             role):
            return "your " + role
        return "the " + role
    return ""


def is_name(peer: str) -> bool:
    """A personal name rather than a role description."""
    return bool(peer) and peer[0].isupper() and not peer.lower().startswith(("the ", "your "))


def detect_stance(message: str) -> Stance:
    """How the peer seems to stand: working against (conflict), for (sponsor), or neither (neutral)."""
    if _CONFLICT.search(message):
        return "conflict"
    if _SPONSOR.search(message):
        return "sponsor"
    return "neutral"


def peer_hit(hits: list[Hit], stance: Stance = "neutral") -> Hit | None:
    """The passage to cite for an opener: a note for this stance, else any peer-relationship note."""
    from agent.coach.situations import corpus_tags, load_situations

    for hit in hits:
        if corpus_tags().get(hit.chunk.source, frozenset()) & STANCE_TAGS[stance]:
            return hit
    peer_sits = [s for s in load_situations().values() if s.peer]
    for hit in hits:
        if any(s.owns(hit.chunk.source, hit.chunk.title) for s in peer_sits):
            return hit
    for hit in hits:
        if re.search(r"\b(?:peer|colleague|relationship|sponsor|ownership)", hit.chunk.text, re.I):
            return hit
    return hits[0] if hits else None


def citation_for(hit: Hit) -> Citation:
    """A Citation pointing at a retrieved chunk."""
    c = hit.chunk
    return Citation(source=c.source, title=c.title, chunk=c.chunk, text=c.text, link=c.link, start=c.start,
                    end=c.end)


def draft_openers(situation: str, peer: str, hits: list[Hit], k: int = 3) -> list[Opener]:
    """k openers for the relationship with `peer` described in `situation`, each citing a retrieved note."""
    stance = detect_stance(situation)
    peer = peer or extract_peer(situation)
    greeting = f"{peer}, " if is_name(peer) else ""
    hit = peer_hit(hits, stance)
    citation = citation_for(hit) if hit else None
    out = []
    for tpl in load_openers().stances[stance][:max(k, 0)]:
        text = render(tpl.text, greeting=greeting)
        if not greeting:
            text = text[0].upper() + text[1:]
            if peer:
                text = f"To {peer}: {text}"
        out.append(Opener(text=text, why=tpl.why, citation=citation))
    return out
