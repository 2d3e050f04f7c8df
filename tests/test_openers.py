"""Radical-ownership openers: first person, owning a part, curious, naming the peer, citing a note."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from agent.coach.openers import OWNERSHIP, detect_stance, draft_openers, extract_peer, load_openers
from agent.coach.questions import is_open_question
from agent.core.errors import ConfigError
from agent.core.types import Chunk, Hit
from tests.coach_helpers import corpus_hit, home_with_corpus


def note(source: str, title: str, text: str = "A passage about working with colleagues.") -> Hit:
    return Hit(chunk=Chunk(id=f"{source}#abc-0", source=source, title=title, text=text, chunk=0, start=0,
                           end=len(text)), score=0.5)


HITS = [note("grow-model.md", "The GROW model", "Goal, reality, options, will."),
        corpus_hit("owning-your-half-of-a-relationship.md")]


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
    hits = [corpus_hit("sponsors-and-anti-sponsors.md")] + HITS
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


def test_a_passage_that_shares_nothing_with_the_situation_is_not_cited():
    off_topic = [note("grow-model.md", "The GROW model", "Goal, reality, options, will.")]
    assert all(o.citation is None for o in draft_openers("Priya keeps blocking my budget", "Priya", off_topic))


@pytest.mark.parametrize("message", [
    "my peer Priya, head of product, keeps overriding my team's priorities and we barely talk",
    "The head of sales ignores every proposal my team sends.",
    "My peer in finance keeps undermining me with the CFO.",
    "Jonas blocks our releases and I barely know him.",  # friction and distance: conflict wins
    "My counterpart in ops shot down our plan and we haven't spoken since.",
])
def test_friction_gets_conflict_openers_that_own_the_speakers_part(message):
    assert detect_stance(message) == "conflict"
    openers = draft_openers(message, "", [corpus_hit("owning-your-half-of-a-relationship.md")])
    assert all(any(mark in o.text.lower() for mark in OWNERSHIP) for o in openers)
    distant = {t.text for t in load_openers().stances["neutral"]}
    assert not any(o.text.split(": ", 1)[-1] in distant for o in openers)


def test_the_priorities_opener_comes_first_when_they_talk_about_priorities():
    first = draft_openers("Priya keeps overriding my team's priorities and we barely talk", "", [])[0]
    assert first.text.startswith("Priya, I think I've pushed my team's priorities without understanding yours")


@pytest.mark.parametrize("message, named", [
    ("The head of sales and I keep clashing over targets.", "the head of sales"),
    ("My peer in finance never answers my emails.", "your peer in finance"),
    ("Priya, our head of product, keeps overriding my priorities.", "Priya"),
    ("My former teammate who I now manage avoids our one-to-ones.", "your former teammate"),
    ("Our HR business partner, Tom, will have a say in my promotion.", "Tom"),
    ("The theatre manager and I clash every week about bed flow.", "the theatre manager"),
])
def test_every_opener_names_the_person_or_role(message, named):
    assert extract_peer(message) == named
    for op in draft_openers(message, "", HITS):
        assert named in op.text, op.text


@pytest.mark.parametrize("message, peer", [
    ("My boss says my peer relationships are holding back my promotion.", ""),
    ("We both report to the same director, and he has noticed.", ""),
    ("I'm up for a deputy director post and Gareth is working against me.", "Gareth"),
])
def test_a_boss_or_a_post_is_not_the_peer(message, peer):
    assert extract_peer(message) == peer


def test_a_former_teammate_gets_openers_about_the_changed_footing():
    message = "Sean and I were peers until I was promoted over him; our meetings are stiff now."
    assert detect_stance(message) == "former_peer"
    openers = draft_openers(message, "", HITS)
    assert len(openers) == 3 and all(o.text.startswith("Sean, ") for o in openers)
    assert any("change" in o.text for o in openers)


def test_a_named_peer_with_a_role_is_greeted_by_name():
    op = draft_openers("Marcus pushes back on every design we send.", "Marcus, platform lead", HITS)[0]
    assert op.text.startswith("Marcus, I")


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
