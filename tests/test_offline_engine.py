"""The offline engine: replies that fit the situation, their own words reflected, one fresh open question."""

from __future__ import annotations

import re

import pytest

from agent.coach.engine import EngineInput, EngineOutput, HistoryItem
from agent.coach.offline import OfflineEngine
from agent.coach.questions import is_open_question, load_bank, normalise, render
from agent.coach.quotes import quoted_phrases, shift_pronouns
from agent.coach.reflect import COMPLEX, reflect
from agent.coach.situations import load_situations
from agent.core.errors import ConfigError
from agent.core.types import Commitment
from tests.coach_helpers import home_with_corpus

ROLE = "I just got promoted to lead my old team and now my team stopped coming to me for help."
PEER = "My peer in finance, Priya, keeps blocking my budget requests and I'm frustrated."


@pytest.fixture
def search(coach_home):
    from agent.ingest.bundled import open_searcher

    searcher = open_searcher(home_with_corpus(coach_home))
    return lambda q: searcher.search(q, k=4)


def respond(message: str, hits=(), **kw) -> EngineOutput:
    return OfflineEngine().respond(EngineInput(message=message, hits=list(hits), **kw))


def test_the_bank_is_valid_and_every_question_is_open():
    bank = load_bank()
    for phases in bank.questions.values():
        for items in phases.values():
            assert len(items) >= 3
            assert all(is_open_question(q) for q in items)


@pytest.mark.parametrize("question, is_open", [
    ("What would you like to change?", True), ("How did that land with them?", True),
    ("Tell me more about that.", True), ("Do you want to change it?", False), ("Is that fair?", False),
    ("What a day.", False),
])
def test_open_question_check(question, is_open):
    assert is_open_question(question) is is_open


def test_a_closed_question_in_the_bank_is_a_config_error(tmp_path):
    text = (load_bank.__module__ and _bank_path().read_text(encoding="utf-8"))
    bad = tmp_path / "bank.yaml"
    bad.write_text(text.replace("What would you like to get out of our conversation today?",
                                "Do you want to talk today?"), encoding="utf-8")
    with pytest.raises(ConfigError, match="not an open question"):
        load_bank(bad)


def _bank_path():
    from agent.core.resources import coach_data_dir

    return coach_data_dir() / "question_bank.yaml"


def test_render_names_a_missing_variable():
    with pytest.raises(ConfigError, match="peer"):
        render("What might {peer} need from you?", their_words="x")


def test_two_situations_get_visibly_different_fitting_replies(search):
    role, peer = respond(ROLE, search(ROLE)), respond(PEER, search(PEER))
    assert (role.situation, peer.situation) == ("role_change", "peer_conflict")
    assert role.reply != peer.reply and role.questions != peer.questions
    assert "stopped coming to you" in role.reply  # their own words, given back
    assert "Priya" in peer.reply and "Priya" in peer.questions[0]  # the named peer
    assert len(peer.openers) == 3 and not role.openers
    for out in (role, peer):
        assert len(out.questions) == 1 and is_open_question(out.questions[0])
        assert re.sub(r"\s*\[\d+\]$", "", out.reply).endswith(out.questions[0])


def test_reflection_comes_first_and_uses_their_words():
    out = respond("Honestly my boss ignores my proposals and I feel invisible.")
    first = re.split(r"(?<=[.!?])\s", out.reply)[0]
    assert "'" in first and "your" in first  # a quoted, pronoun-shifted phrase
    assert "invisible" in out.reply or "ignores your proposals" in out.reply


def test_simple_and_complex_reflections():
    bank, sits = load_bank(), load_situations()
    kinds = {r.kind for i in range(3) for r in reflect(ROLE, bank, sits["role_change"], turn_index=i)}
    assert "simple" in kinds and kinds & COMPLEX
    [double] = reflect("I want to lead the team, but I miss writing the code myself.", bank, sits["letting_go"],
                       turn_index=0)
    assert double.kind == "part_of_you" and "part of you misses writing the code yourself" in double.text
    [named] = reflect("Priya keeps undermining me in meetings and honestly I'm exhausted.", bank,
                      sits["peer_conflict"], turn_index=0)
    assert named.kind == "named_feeling" and "exhausted" in named.text


def test_their_own_quotes_and_pronoun_shift():
    assert quoted_phrases('They called my plan "fancy nonsense" in the meeting.')[0] == "fancy nonsense"
    assert shift_pronouns("I am sure my team trusts me") == "you are sure your team trusts you"


def test_never_repeats_a_question_already_asked():
    asked: list[str] = []
    for i in range(40):
        out = respond("My team keeps missing deadlines and I am not sure why.", asked=asked, turn_index=i,
                      phase="reality")
        assert normalise(out.questions[0]) not in {normalise(q) for q in asked}
        asked += out.questions


def test_advice_request_gets_a_grounded_offer_and_still_a_question(search):
    message = "My peer in finance keeps blocking me. What should I do about the relationship with my peer?"
    out = respond(message, search(message), phase="reality", turn_index=2)
    assert out.cited_ids and "[1]" in out.reply
    assert re.sub(r"\s*\[\d+\]$", "", out.reply).endswith("?") and is_open_question(out.questions[0])


def test_no_advice_when_not_asked(search):
    message = "My team stopped coming to me for help since the promotion."
    out = respond(message, search(message))
    assert "here's one" not in out.reply and "Since you asked" not in out.reply
    assert "one option" not in out.reply


def test_commitment_is_confirmed_and_closes_the_topic():
    out = respond("I'll talk to Priya by Friday and I'll know it worked if she invites me to planning.",
                  phase="will", turn_index=6)
    assert out.phase == "closed"
    assert out.commitment == Commitment(what="talk to Priya", by_when="by Friday",
                                        measure="she invites me to planning")
    assert "talk to Priya, by Friday." in out.reply and "she invites you to planning" in out.reply


def test_a_commitment_without_a_deadline_asks_by_when():
    out = respond("I'll hand the weekly report to Sam.", phase="options", turn_index=5)
    assert out.phase == "will" and out.commitment.what == "hand the weekly report to Sam"
    assert "by when" in out.questions[0].lower() or "deadline" in out.questions[0].lower()


def test_first_turn_asks_about_the_last_open_commitment():
    out = respond("Hi, I'd like to talk about my team.", open_commitment=Commitment(
        what="ask my peer for feedback", by_when="by Monday"), turn_index=0)
    assert "ask your peer for feedback by Monday" in out.questions[0]


def test_moves_through_grow_over_a_conversation():
    engine, asked, phase, phases = OfflineEngine(), [], "goal", []
    script = ["My team stopped coming to me with problems since I was promoted.",
              "I want them to bring me the hard problems again, and I'd like to coach rather than fix.",
              "Right now I answer every question in chat within minutes.", "It has been that way for months.",
              "Maybe I could hold office hours instead.", "Or I could ask Sam to field the first questions.",
              "I'll set up office hours by Monday."]
    history: list[HistoryItem] = []
    for i, message in enumerate(script):
        inp = EngineInput(message=message, phase=phase, asked=asked, turn_index=i, history=history)
        out = engine.respond(inp)
        asked += out.questions
        phase = out.phase
        phases.append(phase)
        history += [HistoryItem(role="user", text=message), HistoryItem(role="coach", text=out.reply)]
    assert phases[0] == "goal" and phases[-1] == "closed"
    assert phases.index("reality") < phases.index("options") < phases.index("closed")


def test_stream_yields_the_reply_then_the_output():
    pieces = list(OfflineEngine().stream(EngineInput(message=ROLE)))
    assert isinstance(pieces[-1], EngineOutput)
    assert "".join(pieces[:-1]) == pieces[-1].reply and len(pieces) > 5


def test_deterministic():
    assert respond(PEER).model_dump() == respond(PEER).model_dump()
