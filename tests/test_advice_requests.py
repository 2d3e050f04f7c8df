"""One list of advice-request phrases (agent/coach/data/advice_requests.yaml) drives both readers of a request."""

from __future__ import annotations

import pytest

from agent.coach.advice_requests import asks_for_advice, load_requests, request_or_unsure_pattern
from agent.coach.offers import substantive
from agent.coach.reading import asks, goal_of
from agent.core.errors import ConfigError

# Phrases that used to live only in reading.ASKS, and only in offers._REQUEST.
FROM_READING = ["What should I say to her", "What do I do now", "Any advice on this", "Can you suggest a way in",
                "Tell me what works", "What would you say here"]
FROM_OFFERS = ["What should I do", "Any ideas for the offsite", "Any tips for a first one-to-one",
               "I'd like to know how people normally handle it", "How should I approach this",
               "Yes please", "Go ahead"]


@pytest.mark.parametrize("clause", FROM_READING + FROM_OFFERS)
def test_every_phrase_of_both_old_lists_is_an_advice_request(clause):
    assert asks_for_advice(clause)
    assert asks(clause)


@pytest.mark.parametrize("wish", ["I'd like any tips for a first one-to-one", "I need you to tell me what works",
                                  "I want to know how people normally handle it",
                                  "I want to hear what would you say here", "I'd like to know what do I do now"])
def test_a_wish_that_asks_for_advice_is_not_taken_as_their_goal(wish):
    assert goal_of(wish) == ""
    assert goal_of(f"I want to lead this team well. {wish}.") == "leading this team well"


@pytest.mark.parametrize("clause", FROM_READING + FROM_OFFERS)
def test_a_request_alone_says_too_little_to_search_by(clause):
    assert not substantive(f"{clause}?")
    assert substantive(f"{clause}? My finance peer blocks every budget request quietly")


def test_saying_i_dont_know_is_not_a_request_but_says_nothing_to_search_by():
    for unsure in ["I genuinely have no idea", "I'm not sure", "I don't know", "I dont know"]:
        assert not asks_for_advice(unsure)
        assert request_or_unsure_pattern().sub("", unsure).strip(" '") in ("", "I'm", "I")
    assert goal_of("What I'd like is to be able to say 'I don't know yet' in meetings.").startswith("being able to")
    assert not substantive("What should I do? I genuinely have no idea how people normally approach this.")


def test_plain_statements_are_not_requests():
    for text in ["I went ahead with the reorg last week", "I want my team to grow", "Nobody asked for advice"]:
        assert not asks_for_advice(text)


def test_a_bad_phrase_is_a_one_line_config_error(tmp_path):
    bad = tmp_path / "advice_requests.yaml"
    bad.write_text("name: advice_requests\nversion: 1\nrequests: ['what (should']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"advice requests file .*requests: .*bad phrase") as info:
        load_requests(str(bad))
    assert "\n" not in str(info.value)
