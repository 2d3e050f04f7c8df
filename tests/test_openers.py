"""Radical-ownership openers: first person, owning a part, curious, naming the peer, citing a note."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.coach.questions import is_open_question
from agent.errors import ConfigError
from agent.openers import OWNERSHIP, detect_stance, draft_openers, extract_peer, load_openers
from agent.types import Chunk, Hit
from tests.coach_helpers import home_with_corpus


def note(source: str, title: str, text: str = "A passage about working with colleagues.") -> Hit:
    return Hit(chunk=Chunk(id=f"{source}#abc-0", source=source, title=title, text=text, chunk=0, start=0,
                           end=len(text)), score=0.5)


HITS = [note("grow-model.md", "The GROW model", "Goal, reality, options, will."),
        note("owning-your-half-of-a-relationship.md", "Radical ownership - owning your half")]


def assert_radical_ownership(text: str, peer: str) -> None:
    low = text.lower()
    assert peer.lower() in low, text
    assert re.search(r"\bI\b|\bI'", text), text
    assert any(mark in low for mark in OWNERSHIP), text
    last = re.split(r"(?<=[.!;:])\s+", text)[-1]
    assert is_open_question(last), text


@pytest.mark.parametrize("message, peer", [
    ("Priya keeps blocking my proposals.", "Priya"),
    ("Priya, the head of sales, undermines me.", "Priya"),
    ("I have a tense relationship with the head of sales.", "the head of sales"),
    ("My peer in finance pushes back on everything.", "your peer in finance"),
    ("I want a better relationship with Tom Baker, who runs marketing.", "Tom Baker"),
    ("I barely know another manager on my floor.", "the other manager"),
    ("My team is doing fine.", ""),
])
def test_extracts_the_person_or_role(message, peer):
    assert extract_peer(message) == peer


@pytest.mark.parametrize("message, stance", [
    ("Jonas undermines me and competes for the same role.", "conflict"),
    ("She sees me as an anti-sponsor, I think.", "conflict"),
    ("Maria has always been my sponsor and backs me in reviews.", "sponsor"),
    ("I barely talk to the head of marketing.", "neutral"),
])
def test_stance(message, stance):
    assert detect_stance(message) == stance


@pytest.mark.parametrize("situation", ["Priya keeps undermining me in meetings.", "Maria is my sponsor.",
                                       "I never talk to Priya in finance."])
def test_three_openers_per_stance_all_radical_ownership(situation):
    openers = draft_openers(situation, "", HITS)
    assert len(openers) == 3 and len({o.text for o in openers}) == 3
    for op in openers:
        assert_radical_ownership(op.text, extract_peer(situation))
        assert op.why and op.citation is not None
        # the peer-relationship note beats the top hit
        assert op.citation.source == "owning-your-half-of-a-relationship.md"


def test_the_cited_note_fits_the_stance():
    hits = [note("sponsors-and-anti-sponsors.md", "Sponsors and anti-sponsors")] + HITS
    sponsor = draft_openers("Maria is my sponsor", "", hits)[0].citation
    assert sponsor.source == "sponsors-and-anti-sponsors.md"
    conflict = draft_openers("Priya undermines me", "", hits)[0].citation
    assert conflict.source == "owning-your-half-of-a-relationship.md"


def test_different_stances_get_different_templates():
    texts = {s: {o.text for o in draft_openers(s, "Priya", HITS)} for s in
             ("Priya undermines me", "Priya is my sponsor", "I rarely see Priya")}
    a, b, c = texts.values()
    assert not (a & b) and not (b & c) and not (a & c)


def test_a_role_is_addressed_by_name_of_the_role():
    op = draft_openers("the head of sales keeps blocking me", "", HITS)[0]
    assert op.text.startswith("To the head of sales: I")


def test_no_hits_means_no_citation_but_still_openers():
    assert all(o.citation is None for o in draft_openers("Priya ignores me", "Priya", []))


def test_an_opener_without_ownership_is_rejected(tmp_path):
    bad = tmp_path / "openers.yaml"
    data = {"name": "openers", "version": 1, "stances": {s: [{"text": "Hello {greeting}. What do you need?",
                                                             "why": "x"}] * 3
                                                         for s in ("conflict", "sponsor", "neutral")}}
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="own the speaker"):
        load_openers(str(bad))


def test_cli_openers_json(coach_home):
    home_with_corpus(coach_home)
    situation = "My peer in finance, Priya, keeps blocking my budget"
    result = CliRunner().invoke(app, ["openers", situation, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 3
    for op in data:
        assert_radical_ownership(op["text"], "Priya")
        assert op["citation"]["source"].endswith(".md")


def test_cli_openers_human(coach_home):
    home_with_corpus(coach_home)
    result = CliRunner().invoke(app, ["openers", "I barely talk to the head of marketing", "--k", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("opener ") == 2 and "head of marketing" in result.stdout
