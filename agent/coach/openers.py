"""Radical-ownership openers for a named peer relationship: who it is, how they stand, what to say first."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, field_validator

from agent.coach.questions import is_open_question, render, variables
from agent.core.resources import coach_data_dir
from agent.core.types import Citation, Hit, Opener
from agent.core.yaml_data import load_model

Stance = Literal["conflict", "sponsor", "neutral", "former_peer"]
REQUIRED_STANCES: tuple[Stance, ...] = ("conflict", "sponsor", "neutral")
OWNERSHIP = ("i realise", "i realize", "my part", "on me", "my doing", "down to me", "i haven't",
             "i've noticed i", "my blind spots", "i've been", "i think i've", "i know i've")
STANCE_TAGS: dict[str, frozenset[str]] = {  # corpus front-matter tags of the notes each stance leans on
    "conflict": frozenset({"radical-ownership", "repair", "openers"}),
    "sponsor": frozenset({"sponsors", "anti-sponsors", "detractors"}),
    "neutral": frozenset({"peer-map", "stakeholders", "motivation"}),
    "former_peer": frozenset({"hard-conversations", "openers", "promotion"}),
}
# Friction of any kind: the peer works against them, or they against each other. Checked first, so a message
# that is both distant and strained ("keeps overriding ... and we barely talk") gets conflict openers.
_CONFLICT = re.compile(
    r"\b(?:anti-?sponsor|against\s+me|undermin\w*|block\w*|resist\w*|clash\w*|conflict|tension|friction|"
    r"hostile|overrid\w*|overrul\w*|ignor\w*|sideline\w*|dismiss\w*|shot\s+down|shoots?\s+down|"
    r"push(?:es|ed|ing)?\s+back|blam\w*|complain\w*|behind\s+(?:my|his|her|their)\s+back|"
    r"(?:goes|went|going)\s+over\s+(?:my|his|her|their)\s+head|cool\s+with\s+me|questions?\s+my|disagree\w*|"
    r"talk(?:s|ing)?\s+over|compet\w*|undercut\w*|steamroll\w*|"
    r"dismissive|argu\w+|sceptic\w*|skeptic\w*|doesn't\s+trust|does\s+not\s+trust|don't\s+trust|"
    r"shut\s+me\s+out|left\s+me\s+out|resent\w*|frustrat\w*|annoy\w*|difficult|doubts?\s+about|"
    r"detractor|without\s+(?:her|him|them)\b|tense|strained|frosty)",
    re.I)
_FORMER = re.compile(
    r"\b(?:former|ex-?)\s+(?:teammate|peer|colleague|team-?mate)s?\b|\bused\s+to\s+be\s+(?:my\s+)?(?:peer|teammate|"
    r"colleague|friend)s?\b|\bwere\s+(?:peers|teammates|friends|colleagues)\b|\bpromoted\s+over\b|"
    r"\bnow\s+reports?\s+to\s+me\b|\bwho\s+i\s+now\s+manage\b", re.I)
_SPONSOR = re.compile(
    r"\b(?:sponsors?|supports?\s+me|supportive|champions?|advocates?|mentor|ally|allies|in\s+my\s+corner|"
    r"backs\s+me|vouch\w*|speaks?\s+up\s+for\s+me|has\s+my\s+back|(?:have|has)\s+a\s+say\s+in)\b", re.I)
_ROLE_NOUN = (r"(?:manager|lead|supervisor|head|director|planner|partner|officer|coordinator|engineer|analyst|"
              r"nurse|consultant|pharmacist|radiographer|administrator|controller|architect|owner|chief|buyer)")
_ROLE = re.compile(
    r"\b(my|our|the|a|an|another)\s+("
    r"(?:(?:fellow|other|former)\s+)?(?:peer|counterpart|colleague|teammate|opposite\s+number)"
    r"(?:\s+(?:in|from|at|on|over\s+in)\s+(?:the\s+)?(?!my\b|our\b|your\b|the\b)[a-z]+"
    r"(?:\s+(?:team|department|group))?)?"
    r"|head\s+of\s+[a-z]+|vp\s+of\s+[a-z]+|director\s+of\s+[a-z]+|chief\s+[a-z]+\s+officer|c[a-z]o"
    rf"|(?:[a-z&-]+\s+){{1,2}}{_ROLE_NOUN}|{_ROLE_NOUN}|boss"
    r")\b(?!\s+(?:post|role|job|position|title|vacancy|meeting|relationships?))",
    re.I)
_NOT_ROLE_WORDS = {"same", "new", "next", "own", "only", "whole", "last", "first", "line", "previous", "old",
                   "deputy", "area", "team", "a", "an", "the", "my", "our", "their", "his", "her"}
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{1,20})(?:\s+([A-Z][a-z]{1,20}))?\b(?!')")
_NAME_FIRST = re.compile(r"(?:^|[.!?]\s+)([A-Z][a-z]{1,20})(?=(?:,[^,]{2,60},)?\s+(?:and\s+(?:I|me)\b|keeps|is|has|was|"
                         r"won't|doesn't|never|always|said|says|told|thinks|seems|ignores|blocks|undermines|"
                         r"supports|just|pushes|runs|could|will|barely|hardly|questions|blamed|blames|shot))")
_NOT_NAMES = {
    "I", "I'm", "I've", "I'll", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "The", "My", "Our", "We", "They", "He", "She", "It", "This", "That", "What",
    "How", "When", "Why", "Which", "Who", "But", "And", "So", "If", "Then", "Now", "Today", "Tomorrow",
    "Yesterday", "Hi", "Hello", "Thanks", "Yes", "No", "Maybe", "Also", "Just", "Still", "Even", "Sales",
    "Finance", "Marketing", "Engineering", "Product", "Operations", "Legal", "Support", "Design", "HR", "CEO",
    "CTO", "CFO", "VP", "Q1", "Q2", "Q3", "Q4", "Slack", "Teams", "Zoom", "Jira", "English", "Head", "Area",
    "Deputy", "Senior", "Team", "Lead", "Manager", "Director", "Everyone", "Nobody", "Some", "Most", "Another",
    "Last", "Next", "Every", "One", "Two", "Since", "After", "Before", "Thinking", "Put", "Right", "Honestly",
    "Sometimes", "Perhaps", "Or", "Because", "Although", "While", "Once", "Her", "His", "Their", "Its", "You",
    "Your", "Is", "Do", "Does", "Did", "Can", "Could", "Would", "Should", "Will", "Where", "Whose", "Something",
    "Everything", "Nothing", "Anything", "Someone", "Somebody", "People", "Things", "There", "Here", "Not",
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
    """agent/coach/data/openers.yaml."""

    name: str
    version: int
    stances: dict[Stance, list[OpenerTemplate]]

    @field_validator("stances")
    @classmethod
    def _three_each(cls, v: dict[str, list[OpenerTemplate]]) -> dict[str, list[OpenerTemplate]]:
        for stance in set(REQUIRED_STANCES) | set(v):
            if len(v.get(stance, [])) < 3:
                raise ValueError(f"stance {stance!r} needs at least 3 openers")
        return v


@lru_cache(maxsize=4)
def load_openers(path: str = "") -> OpenerFile:
    """The validated opener templates; a broken file is a one-line ConfigError."""
    where = Path(path) if path else coach_data_dir() / "openers.yaml"
    return load_model(where, OpenerFile, "openers file")


def extract_peer(message: str) -> str:
    """The person ('Priya') or role ('the head of sales', 'your peer in finance') a message is about, or ''."""
    text = message.replace("’", "'")
    for m in list(_NAME_FIRST.finditer(text)) + list(_NAME.finditer(text)):
        name = m.group(0).strip(" .!?") if m.re is _NAME else m.group(1)
        first = name.split()[0]
        if first in _NOT_NAMES or first.upper() == first:
            continue
        last = name.split()[-1]
        return name if last not in _NOT_NAMES and last != first else first
    for m in _ROLE.finditer(text):
        det, role = m.group(1).lower(), " ".join(m.group(2).split())
        words = role.lower().split()
        if (words[0] in _NOT_ROLE_WORDS and len(words) > 1) or (det in ("my", "our") and len(words) == 1 and
                                                                  words[0] in ("manager", "director", "boss",
                                                                               "head", "lead", "chief")):
            continue  # "the same director", "my manager": not a peer
        if det == "another":
            return "the other " + role
        if det in ("my", "our"):
            return "your " + role
        return "the " + role
    return ""


def is_name(peer: str) -> bool:
    """A personal name rather than a role description."""
    return bool(peer) and peer[0].isupper() and not peer.lower().startswith(("the ", "your "))


def short_peer(peer: str) -> str:
    """'Marcus, platform lead' -> 'Marcus': a name with its role keeps just the name."""
    head = peer.split(",")[0].strip()
    return head if is_name(head) else peer.strip()


def detect_stance(message: str) -> Stance:
    """How the relationship stands: strained (conflict), changed footing (former_peer), for you, or distant."""
    if _CONFLICT.search(message):
        return "conflict"
    if _FORMER.search(message):
        return "former_peer"
    if _SPONSOR.search(message):
        return "sponsor"
    return "neutral"


def peer_hit(hits: list[Hit], stance: Stance = "neutral", text: str = "") -> Hit | None:
    """The passage to cite for an opener: a note for this stance, else any peer-relationship note.

    With `text` (the situation and the openers), only a passage sharing words with it counts: a citation has to
    be about what the person described.
    """
    from agent.coach.grounding import shared_words
    from agent.coach.situations import corpus_tags, load_situations

    if text:
        hits = [h for h in hits if len(shared_words(text, h.chunk.text)) >= 3]

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
    peer = short_peer(peer) or extract_peer(situation)
    greeting = f"{peer}, " if is_name(peer) else ""
    stances = load_openers().stances
    templates = stances.get(stance) or stances["neutral"]
    want = set(re.findall(r"[a-z]{4,}", situation.lower()))
    # The openers that echo their own words ("priorities", "decisions") come first; the file order breaks ties.
    ranked = sorted(enumerate(templates), key=lambda it: (-len(want & set(re.findall(r"[a-z]{4,}",
                                                                                     it[1].text.lower()))), it[0]))
    chosen = [tpl for _, tpl in ranked[:max(k, 0)]]
    hit = peer_hit(hits, stance, " ".join([situation] + [f"{t.text} {t.why}" for t in chosen]))
    citation = citation_for(hit) if hit else None
    out = []
    for tpl in chosen:
        text = render(tpl.text, greeting=greeting)
        if not greeting:
            text = text[0].upper() + text[1:]
            if peer:
                text = f"To {peer}: {text}"
        out.append(Opener(text=text, why=tpl.why, citation=citation))
    return out
