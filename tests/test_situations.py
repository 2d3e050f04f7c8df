"""How the offline coach reads a message: situation, GROW phase, commitment, request for advice."""

from __future__ import annotations

import pytest

from agent.coach.grow import extract_commitment, gives_permission, next_phase, phase_run, wants_advice
from agent.coach.situations import detect, is_peer, load_situations
from agent.core.errors import ConfigError
from agent.core.types import Chunk, Hit


def hit(source: str, text: str = "Some passage text about leading people.", title: str = "A note") -> Hit:
    return Hit(chunk=Chunk(id=f"{source}#x-0", source=source, title=title, text=text, chunk=0, start=0,
                           end=len(text)), score=1.0)


@pytest.mark.parametrize("message, expected", [
    ("I just got promoted to manage the team I used to be a developer on, and it feels like a new career.",
     "role_change"),
    ("Since I became the lead my team stopped coming to me, and honestly I still do it myself at night.",
     "letting_go"),
    ("I was passed over again and I'm waiting for my manager to finally tap me on the shoulder.",
     "dependency_mindset"),
    ("I'm not sure I want to be a manager at all; what do I even want my job to be?", "career_direction"),
    ("I came back from a leadership course full of ideas and the team rolled their eyes.", "team_buy_in"),
    ("My peer in finance undermines me in every meeting and we clash constantly.", "peer_conflict"),
    ("Who could sponsor me for the director role, and who is an anti-sponsor?", "sponsors"),
    ("I have too much on my plate and I can't delegate anything; I'm the bottleneck.", "delegation"),
    ("I have to give some bad news to a team member who is underperforming.", "difficult_news"),
    ("I feel like an imposter, totally out of my depth in this role.", "imposter"),
    ("My former peers now report to me and managing my friends feels awkward.", "former_peers"),
    ("What's a good recipe for banana bread?", "general"),
])
def test_detects_each_situation_from_the_message(message, expected):
    assert detect(message).name == expected


def test_retrieved_notes_break_a_tie_but_never_invent_a_situation():
    message = "I am a new manager who likes hands-on work."  # role change and letting go score the same
    assert detect(message).scores["role_change"] == detect(message).scores["letting_go"]
    assert detect(message, [hit("the-honest-welcome-speech.md")]).name == "role_change"
    assert detect(message, [hit("the-player-manager-squeeze.md")]).name == "letting_go"
    # a note alone, with nothing in the message pointing at it, leaves the situation general
    peer_note = hit("sponsors-and-anti-sponsors.md", title="Sponsors and anti-sponsors")
    assert detect("Hello there, how are you today?", [peer_note] * 3).name == "general"


def test_peer_situations_are_flagged():
    assert is_peer("peer_conflict") and is_peer("sponsors")
    assert not is_peer("role_change") and not is_peer("nonexistent")


def test_a_broken_situations_file_is_a_one_line_config_error(tmp_path):
    bad = tmp_path / "situations.yaml"
    bad.write_text("name: situations\nversion: 1\nsituations:\n  - name: x\n    label: y\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_situations(bad)
    assert "\n" not in str(err.value) and "situations" in str(err.value)


@pytest.mark.parametrize("message, what, by_when, measure", [
    ("I'll talk to Priya by Friday.", "talk to Priya", "by Friday", ""),
    ("I will ask my peer in finance what she needs before the end of the month, and I'll know it worked if "
     "she invites me to planning.", "ask my peer in finance what she needs", "before the end of the month",
     "she invites me to planning"),
    ("Next Tuesday I'm going to hand the weekly report to Sam.", "hand the weekly report to Sam",
     "Next Tuesday", ""),
    ("I'll delegate the release notes", "delegate the release notes", "", ""),
])
def test_extracts_what_by_when_and_measure(message, what, by_when, measure):
    c = extract_commitment(message)
    assert c is not None
    assert (c.what, c.by_when, c.measure) == (what, by_when, measure)


@pytest.mark.parametrize("message", ["I'll think about it.", "I will never manage that.",
                                     "My boss will decide.", "We talked about it last week."])
def test_no_commitment_without_a_plan(message):
    assert extract_commitment(message) is None


@pytest.mark.parametrize("message, expected", [
    ("What should I do?", True), ("Any advice on this?", True), ("Can you suggest a first step?", True),
    ("Just tell me what to do.", True), ("I told her what to do and she ignored it.", False),
    ("My team is struggling.", False),
])
def test_detects_requests_for_advice(message, expected):
    assert wants_advice(message) is expected


def test_permission_is_a_yes_right_after_an_offer():
    offer = "I could share an idea or two from your notes, if you'd find that useful; first, though, ..."
    assert gives_permission("Yes please", offer)
    assert not gives_permission("Yes please", "What would you like to be different?")
    assert not gives_permission("No, let me think", offer)


def test_phase_moves_with_content_and_count():
    assert next_phase("goal", "Hi", run=0) == "goal"
    assert next_phase("goal", "I want my team to trust me with the hard problems again.", run=1) == "reality"
    assert next_phase("reality", "It is what it is.", run=1) == "reality"
    assert next_phase("reality", "It is what it is.", run=2) == "options"
    assert next_phase("reality", "Maybe I could ask Sam to pair with me.", run=0) == "options"
    partial = extract_commitment("I'll ask Sam to pair")
    assert next_phase("options", "I'll ask Sam", run=0, commitment=partial) == "will"
    full = extract_commitment("I'll ask Sam to pair with me by Friday")
    assert next_phase("goal", "whatever", run=0, commitment=full) == "closed"
    assert next_phase("closed", "Something else is bugging me.", run=0) == "goal"
    assert next_phase("will", "Not sure yet.", run=5) == "will"


def test_phase_run_counts_the_latest_questions_of_a_phase():
    asked = ["What would you like to get out of our conversation today?",  # general goal
             "What is happening right now, in concrete terms?",  # general reality
             "Who else is involved, and how do they see it?"]  # general reality
    assert phase_run(asked, "reality") == 2
    assert phase_run(asked, "goal") == 0
