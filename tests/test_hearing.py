"""Hearing a message exactly: clause cuts, a topic put in front, question fragments, capitals and felt states."""

from __future__ import annotations

import pytest

from agent.coach.engine import HistoryItem
from agent.coach.nlp import is_clause, sentence_case_only, undislocated
from agent.coach.quotes import clauses, phrase_of
from agent.coach.reflect import _lower_first
from tests.test_coach_quality import respond


def test_since_without_a_comma_says_when_and_is_not_cut_off():
    said = clauses("I've been doing it since I was sixteen.")
    assert said == ["I've been doing it since I was sixteen"]
    assert "I know it, since I asked" not in clauses("I know it, since I asked him twice.")  # with a comma: a reason
    assert clauses("I know it, since I asked him twice.") == ["I know it", "I asked him twice"]


@pytest.mark.parametrize("clause, main", [
    ("the money side, the owner keeps asking about margins", "the owner keeps asking about margins"),
    ("The rest of it, the people bit, I have never been taught how", "I have never been taught how"),
    ("my boss, she never listens to me", "my boss, she never listens to me"),  # "she" needs "my boss"
    ("No budget, that is the thing", "No budget, that is the thing"),
    ("My boss, I cannot stand him", "My boss, I cannot stand him"),
])
def test_a_topic_put_in_front_goes_only_when_nothing_points_back_at_it(clause, main):
    assert undislocated(clause) == main


def test_the_restatement_keeps_the_real_subject():
    phrase = phrase_of("the money side, the owner keeps asking about margins", 12)
    assert phrase is not None and phrase.plain == "the owner keeps asking about margins"


@pytest.mark.parametrize("text, whole", [
    ("what the job actually is day to day", False),
    ("how we split the work between us", False),
    ("what matters is the money", True),
    ("what I want is a store where the team can hit target", True),
    ("when I walk in they go quiet", True),
    ("I know what the job is", True),
])
def test_a_question_left_unasked_is_no_statement_to_give_back(text, whole):
    assert is_clause(text) is whole


@pytest.mark.parametrize("text, lowered", [
    ("Tenants told the truth", "tenants told the truth"),
    ("Trust is okay", "trust is okay"),
    ("Dev keeps missing the dates", "Dev keeps missing the dates"),
    ("Ramesh you are hardly talking", "Ramesh you are hardly talking"),
    ("IT change is late", "IT change is late"),
])
def test_mid_sentence_only_the_sentence_case_capital_goes(text, lowered):
    assert _lower_first(text) == lowered
    if not text.split()[0].isupper():  # an acronym keeps its capitals before the dictionary is asked
        assert sentence_case_only(text) is (text != lowered)


def test_feeling_like_a_fraud_is_given_back_as_theirs_not_as_how_things_sound():
    history = ["I became a manager two months ago and in the leadership meetings I feel like a fraud.",
               "I keep waiting to be found out. Last week I stayed quiet about a concern on the roadmap."]
    first = respond(history[0])
    assert "about the fraud" not in first.reply and "like a fraud" in first.reply
    said = [HistoryItem(role="user", text=history[0]), HistoryItem(role="coach", text=first.reply)]
    later = respond(history[1], history=said, turn_index=1)
    for wrong in ("sounds like a fraud", "sound like a fraud", "That sounds small"):
        assert wrong not in later.reply


def test_their_own_idea_ranks_before_a_remark_about_a_peer():
    from agent.coach.reflect import ranked_phrases

    message = "Maybe I could pair with one of them each week. Priya is the most experienced, she'd be up for it."
    assert ranked_phrases(message, frozenset(), "Priya", 12)[0].plain.startswith("maybe you could pair")


@pytest.mark.parametrize("message, topic", [
    ("I want them to own quality without me hovering.", "quality"),  # a bare mass noun, as they said it
    ("Two of my sales associates have shown interest.", "your sales associates"),  # before a bare noun
    ("got made team lead last month. not sure I like it.", ""),  # "team lead" misread as noun + verb
])
def test_bare_nouns_are_a_last_resort_and_idioms_none(message, topic):
    from agent.coach.topic import topic_of

    assert topic_of(message) == topic


def test_a_growing_session_is_parsed_one_new_sentence_at_a_time():
    from agent.coach.implied import allowed
    from agent.coach.nlp import parse

    session = " ".join(f"On day {n} the rota for ward {n} slipped again." for n in range(30))
    allowed(session)
    before = parse.cache_info().misses
    grown = f"{session} Now the night shift wants a say too."
    assert "shift" in allowed(grown) and "rota" in allowed(grown)
    assert parse.cache_info().misses - before == 1  # only the new sentence: a turn's cost no longer grows


def test_the_garbled_grader_checks_each_side_of_a_two_sided_reflection():
    from agent.evals.graders_meaning import garbled

    client = ("My manager told me I am in consideration for senior delivery manager, but he is saying my "
              "stakeholder relations with the other delivery managers is not up to the mark.")
    cut = ("On one hand, your manager told you you are in consideration for senior delivery manager; on the other, "
           "he is saying your stakeholder relations.")
    whole = ("On one hand, your manager told you you are in consideration for senior delivery manager; on the other, "
             "he is saying your stakeholder relations with the other delivery managers is not up to the mark.")
    assert any("cut clause" in g for g in garbled(cut, client))
    assert garbled(whole, client) == []


@pytest.mark.parametrize("reflection, client, flagged", [
    # a value they never voiced: the frame's "right" (for "that's right") does not license it
    ("You lead a team of five; doing right by people matters to you.", "I lead a team of five and feel unsure",
     "right"),
    ("Your boss hinted at it; a two-way working relationship matters to you.", "My boss hinted my peers are weak.",
     "way"),
    # their own words, however the lemmatiser reads them alone ("scared" -> "scar")
    ("It makes sense you feel scared when that's your identity.", "I'm scared; that's my identity here.", ""),
    ("So having her on your side really matters to you.", "I want her on my side.", ""),
    ("You'd like a practical way forward.", "What should I do? I have no idea how people do this.", ""),
])
def test_fidelity_holds_an_attributed_value_or_feeling_to_their_words(reflection, client, flagged):
    from agent.evals.graders_meaning import unfaithful_words

    extra = unfaithful_words(reflection, client)
    assert (flagged in extra) if flagged else extra == [], extra


def test_no_value_is_attributed_that_the_message_does_not_carry():
    for turn in range(3):
        reply = respond("I run the tenancy team at a housing association and the repairs manager keeps missing the "
                        "deadlines we agree.", turn_index=turn).reply
        assert "doing right by people" not in reply and "matters to you" not in reply, reply
    reply = respond("I love teaching my two classes a week, and as head I'd have to give that up.").reply
    assert "work that feels like yours" not in reply


def test_an_implied_meaning_that_only_repeats_the_reflection_is_not_added():
    from agent.coach.implied import repeats

    assert repeats("Part of you isn't sure yet.", "You're not sure you ever chose this, it just grew around you.")
    assert not repeats("Stepping back is hard for you.", "You keep jumping in on their work.")
    assert not repeats("It's a lot for you.", "No wonder you feel tired.")  # nothing but the frame: not a repeat


@pytest.mark.parametrize("message, plan", [
    ("As head of department I will sit in meetings about budget and personnel the whole day.", None),
    ("In the new role I will have no time for code.", None),
    ("If I take it, I will lose the simulations.", None),
    ("As her manager, I will talk to her on Friday.", "talk to her"),  # her manager now: a plan
    ("As a first step I will email her on Monday.", "email her"),
    ("I will check in with her every week starting Monday.", "check in with her every week"),
])
def test_what_a_role_would_bring_is_a_prediction_not_a_plan(message, plan):
    from agent.coach.grow import extract_commitment, signalled_phase

    got = extract_commitment(message)
    assert (got.what if got else None) == plan
    if plan is None:
        assert signalled_phase(message) < 3


def test_a_prediction_early_on_is_not_asked_by_when():
    from agent.coach.engine import EngineInput
    from agent.coach.offline import OfflineEngine

    said = ["Now my boss has asked if I want to become head of the department, thirty people.",
            "I like very much the technical work. As head of department I will sit in meetings about budget and "
            "personnel the whole day."]
    history = [HistoryItem(role="user", text=said[0]),
               HistoryItem(role="coach", text="What would you like to be different about the department?")]
    out = OfflineEngine().respond(EngineInput(message=said[1], history=history, turn_index=1, phase="goal"))
    assert out.phase in ("goal", "reality") and "by when" not in out.reply.lower(), out.reply


@pytest.mark.parametrize("side, limit, kept", [
    # the parse sees 'negotiate' still owed what it is about, and 'relations' still owed its verb
    ("maybe I could negotiate with my boss that I keep one technical project", 5, ""),
    ("he is saying my stakeholder relations with the other delivery managers is not up to the mark", 12, ""),
    ("I want to lead projects that matter to the people we serve, not just to tick up a grade", 13,
     "I want to lead projects that matter to the people we serve"),  # at a comma: the aside goes
])
def test_a_side_given_back_is_cut_only_where_the_parse_agrees(side, limit, kept):
    from agent.coach.quotes import trim

    assert trim(side, limit, parsed=True) == kept


def test_an_introduction_is_not_given_back_as_a_clause():
    assert clauses("Hi, myself Karthik, I am working as delivery manager in Pune.") == [
        "I am working as delivery manager in Pune"]
    assert clauses("This is Priya, she leads QA.") == ["This is Priya, she leads QA"]  # someone else: kept
    assert clauses("Interesting, I did not think about it like this before.") == [
        "I did not think about it like this before"]
    assert clauses("Interesting point, she made it twice.") == ["Interesting point, she made it twice"]


@pytest.mark.parametrize("message", ["I will think about it over the weekend. It is too early to say what I do.",
                                     "It takes me most of Friday and half my weekend."])
def test_a_day_or_the_weekend_is_a_when_not_a_topic(message):
    from agent.coach.topic import topic_of

    assert topic_of(message) not in ("the weekend", "Friday", "your weekend", "half your weekend")


@pytest.mark.parametrize("clause, fronted", [
    ("Ramesh I am hardly talking", True),
    ("Priya I trust completely", True),
    ("Monday I am off", False),
    ("Ramesh and I had one issue", False),
    ("I am hardly talking to Ramesh", False),
])
def test_a_name_put_before_i_is_told_from_a_subject_and_a_day(clause, fronted):
    from agent.coach.nlp import fronted_name

    assert fronted_name(clause) is fronted


def test_a_name_put_before_i_is_not_given_back_as_if_spoken_to():
    message = ("Three I am talking to daily only, for resource sharing and all. Ramesh I am hardly talking, and "
               "Sneha is new. Ramesh and me had one issue last year when I took two of his developers.")
    reply = respond(message).reply
    assert "Ramesh you" not in reply and "Ramesh, you" not in reply
    assert "Ramesh and you had one issue last year" in reply


COACH_PREP = ("I'm a leadership coach and I've got a session on Thursday with a client who's been passed over twice "
              "for head of lab. She tells me what her director did wrong, in detail, and I reflect it back. It's "
              "like she's waiting for him to finally recognise her.")


def test_a_value_is_licensed_only_by_what_they_said_of_themselves():
    from agent.coach.implied import unlicensed

    assert unlicensed("being seen", COACH_PREP, frame_ok=False, own=True)  # her wish to be seen, not the coach's
    assert not unlicensed("being seen", COACH_PREP, frame_ok=False)  # the old licence: any word, anyone's
    mine = "I've been passed over twice and my director never recognises my work."
    assert not unlicensed("being seen", mine, frame_ok=False, own=True)
    wanted = "What I want is for her to feel respected, even though the decision isn't mine."
    assert not unlicensed("her feeling respected", wanted, frame_ok=False, own=True)  # what they want is theirs


def test_the_fidelity_grader_fails_a_value_taken_from_someone_else():
    from agent.evals.graders_meaning import unfaithful_words

    assert unfaithful_words("Underneath that, being seen matters to you.", COACH_PREP) == ["see"]
    assert not unfaithful_words("Underneath that, being seen matters to you.",
                                "I have been passed over twice now.")


def test_the_coach_gives_the_speaker_no_value_that_is_the_other_persons():
    said = [HistoryItem(role="user", text=COACH_PREP.split(" She tells")[0] + "."),
            HistoryItem(role="coach", text="So preparing properly really matters to you. What would help?")]
    reply = respond(COACH_PREP.split("head of lab. ")[1], history=said, turn_index=1).reply
    assert "being seen" not in reply and "recognition" not in reply


@pytest.mark.parametrize("clause, plain", [
    ("Was a joiner fifteen years, then foreman", "you were a joiner fifteen years, then foreman"),
    ("Wasn't ready for it at all", "you weren't ready for it at all"),
])
def test_a_clause_that_drops_i_gets_a_verb_that_agrees_with_you(clause, plain):
    phrase = phrase_of(clause, 12)
    assert phrase is not None and phrase.plain == plain


def test_the_speakers_wasnt_is_given_back_as_werent():
    from agent.coach.quotes import shift_pronouns

    assert shift_pronouns("I wasn't ready and I was tired") == "you weren't ready and you were tired"


def test_the_garbled_grader_fails_a_verb_that_does_not_agree_with_you():
    from agent.evals.graders_meaning import garbled

    assert garbled("You 'Was a joiner fifteen years, then foreman'.", "Was a joiner fifteen years, then foreman.")
    assert not garbled("What matters to you is a team that decides. What is next?", "I want a team that decides.")


def test_two_reflections_in_one_reply_do_not_open_alike():
    import re

    said = [HistoryItem(role="user", text="I want to prepare properly so I don't just listen to her vent again."),
            HistoryItem(role="coach", text="So preparing properly really matters to you. What would help?")]
    reply = respond("She tells me what her director did wrong, in detail, and I reflect it back.", history=said,
                    turn_index=1).reply
    sentences = [s for s in re.split(r"(?<=[.?])\s+", reply) if not s.endswith("?")]
    assert len({s.split()[0] for s in sentences}) == len(sentences), reply


def test_a_day_that_is_the_plans_object_stays_in_the_plan():
    from agent.coach.grow import extract_commitment

    kept = extract_commitment("Then I will go to his desk and fix Monday instead.")
    assert kept is not None and kept.what == "go to his desk and fix Monday instead" and kept.by_when == "Monday"
    moved = extract_commitment("I will talk to her on Monday.")
    assert moved is not None and moved.what == "talk to her" and moved.by_when == "on Monday"


def test_a_fallback_plan_is_not_asked_again_how_they_will_know():
    first = ("I will block thirty minutes with Ramesh on Thursday and tell him about the developers issue. If he "
             "agrees to one monthly catch-up, then I will know it is working.")
    said = [HistoryItem(role="user", text=first),
            HistoryItem(role="coach", text="Your plan: you'll block thirty minutes with Ramesh, on Thursday. "
                                           "What might stop you?")]
    reply = respond("He may say he is too busy. Then I will go to his desk and fix Monday instead.", history=said,
                    turn_index=1).reply
    assert "fix Monday instead" in reply and "fix instead" not in reply
    assert "know it has worked" not in reply and "went the way you hoped" not in reply


@pytest.mark.parametrize("message, fear", [
    ("I guess I'm a bit scared that if I let go, quality slips and I'm the one who answers for it.",
     "You're a bit scared that if you let go, quality slips and you're the one who answers for it."),
    ("If I'm honest, I worry she'll make a mistake and a patient will be annoyed, and that it'll reflect on me.",
     "You worry she'll make a mistake and a patient will be annoyed, and that it'll reflect on you."),
    ("The last time I hinted at it, he laughed it off. I think I'm afraid of seeing him hurt.",
     "You're afraid of seeing him hurt."),
    ("I'm not worried about the budget.", ""),  # no fear to give back
    ("She is worried about me and the rota.", ""),  # hers, not theirs
    ("I am worried that if the director keeps moving the deadline every single week we will lose the two best "
     "people on the team before the summer.", ""),  # too long to give back whole: not cut, left out
])
def test_a_voiced_fear_is_given_back_whole_or_not_at_all(message, fear):
    from agent.coach.listening import fear_of

    assert fear_of(message, limit=20) == fear


ASKED = [HistoryItem(role="user", text="I lead the quality team and I still check every batch myself."),
         HistoryItem(role="coach", text="You still check every batch yourself. What is happening with the batches?")]


def test_after_a_disclosure_the_reflection_stands_alone_and_the_next_turn_asks_again():
    scared = "I guess I'm a bit scared that if I let go, quality slips and I'm the one who answers for it."
    out = respond(scared, history=ASKED, turn_index=1, phase="reality")
    assert "?" not in out.reply and out.questions == []
    assert out.reply.startswith("You're a bit scared that if you let go, quality slips")
    after = [*ASKED, HistoryItem(role="user", text=scared), HistoryItem(role="coach", text=out.reply)]
    again = respond("I'm scared that if I let go, nobody will check the batches before they ship.", history=after,
                    turn_index=2, phase="reality")
    assert again.reply.endswith("?") or again.reply.rstrip("]0123456789 [").endswith("?"), again.reply
    assert len(again.questions) == 1  # never two turns running without a question


def test_a_plain_report_still_gets_its_question():
    out = respond("I checked forty batches last week and two of them had labels on upside down.", history=ASKED,
                  turn_index=1, phase="reality")
    assert len(out.questions) == 1


@pytest.mark.parametrize("message, topic", [
    ("Now my numbers don't matter, it's the team's numbers, and half the team is newer than my shoes.", "shoes"),
    ("I just stand next to them and ask questions instead of grabbing the tools.", "tools"),
])
def test_what_a_point_is_weighed_against_is_no_topic(message, topic):
    from agent.coach.topic import topic_of

    assert topic not in topic_of(message)


@pytest.mark.parametrize("message, past", [
    ("I run every release myself because the one time someone else did it, we had an outage.", True),
    ("Last week I stayed quiet about a concern on the roadmap.", True),
    ("Three weeks ago I got promoted because I was the strongest engineer on the team.", False),  # the team is now
    ("I have tried the new rota twice.", False),
])
def test_a_topic_from_a_dated_story_is_asked_about_then(message, past):
    from agent.coach.topic import topic_in_past

    assert topic_in_past(message) is past


def test_the_past_topic_question_looks_back():
    out = respond("I run every production release myself because the one time someone else did it, we had an "
                  "outage.", history=ASKED, turn_index=1, phase="reality")
    assert "right now" not in out.reply
