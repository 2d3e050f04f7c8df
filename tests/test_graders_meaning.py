"""The meaning graders fail the replies issue 11 quotes, and pass faithful ones."""

from __future__ import annotations

import pytest

from agent.core.types import CoachTurn
from agent.evals.graders_meaning import (
    advice_request_handled,
    garbled,
    phase_reasons,
    pushback_handled,
    question_relevance,
    reflection_fidelity,
)
from agent.evals.transcript import Exchange, Transcript


def _t(*pairs: tuple[str, str], tags: list[list[str]] | None = None, **kw: object) -> Transcript:
    tags = tags or [[] for _ in pairs]
    return Transcript(exchanges=[Exchange(user=u, turn=CoachTurn(reply=r, session="s1", **kw), tags=tg)
                                 for (u, r), tg in zip(pairs, tags, strict=True)])


IMPOSTOR = "I keep jumping into test runs myself because I'm faster, and I feel like an impostor."


def test_an_invented_feeling_is_unfaithful():
    bad = _t((IMPOSTOR, "That sounds lonely: mostly you keep jumping into test runs yourself. What's next?"))
    good = _t((IMPOSTOR, "You keep jumping into test runs yourself, and it's hard to let go. What's next?"))
    assert reflection_fidelity(bad).score == 0.0
    assert reflection_fidelity(good).score == 1.0


def test_a_made_up_value_and_a_cut_clause_are_caught():
    msg = "Maybe I could pair with one of them each week."
    reply = "Maybe you could pair, and belonging in the room really matters to you. Who could you ask?"
    assert reflection_fidelity(_t((msg, reply))).score == 0.0
    assert any("cut clause" in g for g in garbled(reply, msg))
    assert garbled("You could pair with one of them each week. Which one first?", msg) == []


def test_an_unswapped_pronoun_and_a_cut_quote_are_garbled():
    assert garbled("So you want my team to decide. What then?", "I want my team to decide.")
    assert garbled("When you say 'own quality without', what do you mean?", "I want them to own quality.")


@pytest.mark.parametrize(("client", "reply", "why"), [
    ("Them running a session start to finish. Handling a kid who kicks off, without ringing me first.",
     "You're saying handling a kid who kicks off, without ringing you first. What then?", "fragment"),
    ("They freeze whenever they have to make a call without me.",
     "You're saying freeze whenever they have to make a call without you. What then?", "fragment"),
    ("She promises clients things without asking us and then I'm the one fixing it.",
     "You're saying she promises clients things without asking us. What then?", "pronoun"),
    ("I want the shift to run without me having to jump on a machine every time.",
     "What matters to you is that the shift runs without you having to jump. What then?", "cut clause"),
])
def test_garbled_restatements_are_caught(client, reply, why):
    assert any(g.startswith(why) for g in garbled(reply, client)), garbled(reply, client)


@pytest.mark.parametrize(("client", "reply"), [
    # a hyphenated word, a preposition the client also left at the end, an aside dropped, a time moved
    ("Maybe I could block two afternoons a week for one-to-ones and unblocking people, and stop taking tickets.",
     "Maybe you could block two afternoons a week for one-to-ones and unblocking people. What first?"),
    ("It feels like a reward that came with a job I never applied for. My days are meetings now.",
     "You're saying it feels like a reward that came with a job you never applied for. What then?"),
    ("I've been avoiding him, to be honest.", "You've been avoiding him. What would it take?"),
    ("I will sit down with Maria, my head receptionist, next Thursday.",
     "So you'll sit down with Maria, your head receptionist, next Thursday. How will you know?"),
    ("I'm fairly sure Gareth, the head of finance, is working against me.",
     "You're fairly sure Gareth, the head of finance, is working against you. What makes you sure?"),
])
def test_whole_abridged_restatements_are_not_garbled(client, reply):
    assert garbled(reply, client) == []


@pytest.mark.slow
def test_an_off_topic_question_is_irrelevant():
    msg = "I want them to own quality without me hovering."
    off = _t((msg, "Who told you that you were ready, and what did they see?"))
    on = _t((msg, "What would owning quality look like for them, without you hovering?"))
    assert question_relevance(off).score == 0.0
    assert question_relevance(on).score == 1.0


def test_pushback_needs_an_acknowledgement_and_a_new_question():
    first = ("My team misses deadlines.", "What does a missed deadline cost you?")
    heard = _t(first, ("I don't know. that's a weird question.", "Fair enough. What would on time look like?"),
               tags=[[], ["pushback"]])
    ignored = _t(first, ("I don't know. that's a weird question.", "What does a missed deadline cost you?"),
                 tags=[[], ["pushback"]])
    assert pushback_handled(heard).score == 1.0
    assert pushback_handled(ignored).score == 0.0


def test_an_advice_request_needs_a_cited_idea_then_a_question():
    ask = "Just tell me what to do."
    bare = _t((ask, "What have you tried so far?"), tags=[["advice_request"]])
    assert advice_request_handled(bare).score == 0.0


def test_leaving_goal_before_a_goal_is_a_phase_without_reason():
    t = _t(("not sure I like it.", "What's hard?"), tags=[["no_goal_yet"]], phase="reality")
    assert phase_reasons(t).score == 0.0
