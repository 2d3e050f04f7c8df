"""The topic a question follows, and a plan turned into what could stop it."""

from __future__ import annotations

import pytest

from agent.coach.topic import plan_gerund, topic_of
from tests.test_coach_quality import respond


@pytest.mark.parametrize("message, topic", [
    ("My peer in finance keeps blocking my budget requests.", "your budget requests"),
    ("I've raised it at the managers' meeting twice and nothing changes.", "the managers' meeting"),
    ("I keep grabbing the trickiest tickets at night because that is where I feel competent.",
     "the trickiest tickets"),
    ("I'd want a heads-up before a patient turns up.", "the heads-up"),
])
def test_the_topic_is_their_concrete_thing_in_the_coachs_voice(message, topic):
    assert topic_of(message) == topic


@pytest.mark.parametrize("message", [
    "I don't know.",
    "Something might be happening at home.",
    "I've only ever raised it in front of everyone.",
    "Tell us before the tenant rings.",
    "She goes on about it in every all-hands.",
    "I don't think he even knows my name, to be honest.",
    "Most days I feel like a fraud.",  # how they feel, not a thing to change
    "Honestly it looks like a lottery to me.",
    "I'm not sure what that means in practice.",  # a bare noun: "with practice" and "with the practice" both jar
    "It's all in my head, so of course nobody else can do it.",
])
def test_no_topic_rather_than_a_vague_or_misread_one(message):
    assert topic_of(message) == ""


@pytest.mark.parametrize("plan, doing", [
    ("ask Dev for a coffee", "asking Dev for a coffee"), ("grab her after the stand-up", "grabbing her after the stand-up"),
    ("raise it at your one-to-one", "raising it at your one-to-one"), ("tie it up", "tying it up"),
    ("probably ask Jo", ""), ("be braver", ""),
])
def test_a_plan_becomes_a_gerund_only_when_it_starts_with_a_verb(plan, doing):
    assert plan_gerund(plan) == doing


def test_a_whole_plan_is_followed_by_what_could_stop_it():
    out = respond("I'll ask Dev for a coffee on Tuesday. I'll know it worked if we agree a heads-up for late repairs.",
                  phase="will", turn_index=5)
    assert out.questions == ["What might stop you asking Dev for a coffee?"]


@pytest.mark.parametrize("message", ["That I'm the ward manager who shouts. But he's the one breaking the process.",
                                     "It's not my fault the rota is late, it's their team missing the dates."])
def test_putting_the_fault_back_on_the_other_is_heard_as_pushback(message):
    from agent.coach.advice_requests import pushback_kind

    assert pushback_kind(message) == "off_track"
    assert pushback_kind("But it is the one thing I enjoy about the job.") == ""
