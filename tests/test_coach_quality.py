"""How the offline coach sounds: whole quotes, complex reflections, coherent questions, light cited ideas."""

from __future__ import annotations

import re

import pytest

from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.offline import OfflineEngine
from agent.coach.questions import is_open_question, load_bank
from agent.coach.quotes import FUNCTION_WORDS, phrase_of, trim
from agent.coach.reflect import COMPLEX, reflect
from agent.coach.situations import load_situations
from tests.coach_helpers import corpus_hit

PRIYA = "Priya and my other peers ignore my proposals in planning meetings and I feel stuck."
TWO_TOPICS = ("My peer Priya, head of product, keeps overriding my team's priorities and we barely talk. "
              "I want to spend less time in meetings.")
MESSAGES = [
    PRIYA, TWO_TOPICS,
    "Three weeks ago I got promoted to team lead because I was the strongest backend engineer on the team. "
    "Honestly it feels like a reward that came with a job I never applied for.",
    "I run every production release myself because the one time someone else did it, we had an outage.",
    "I want to stay myself with them but also be taken seriously when I have to make a call.",
    "My manager keeps saying there are no openings, and I'm starting to feel like it's pointless.",
    "The theatre manager and I clash every single week about beds and I dread our bed meetings.",
    "I still do all the scheduling myself. My receptionist is capable, but it's quicker to do it myself.",
    "I have to tell four nurses that their holiday requests are refused, and someone will feel it's unfair.",
    "I keep jumping onto the shop floor to close sales myself when it's busy.",
]


PEER_NOTES = [corpus_hit("owning-your-half-of-a-relationship.md"), corpus_hit("reading-what-drives-a-peer.md"),
              corpus_hit("empathy-with-a-stretched-peer.md")]


def respond(message: str, hits=(), **kw) -> EngineOutput:
    return OfflineEngine().respond(EngineInput(message=message, hits=list(hits), **kw))


def quotes_in(text: str) -> list[str]:
    """The coach's single-quoted quotes ("Priya 'ignores your proposals'"), apostrophes inside words kept."""
    return re.findall(r"(?<![A-Za-z])'((?:[^'\n]|'(?=[A-Za-z]))+)'(?![A-Za-z])", text)


def first_sentences(reply: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", reply)


def test_the_reported_clumsy_reflection_is_gone():
    out = respond(PRIYA, turn_index=0)
    reflection = first_sentences(out.reply)[0]
    assert "and you feel'" not in reflection and "you feel stuck" in reflection
    assert "ignore your proposals" in reflection and "Priya" in reflection


@pytest.mark.parametrize("message", MESSAGES)
def test_quotes_are_whole_short_phrases_that_never_end_on_a_small_word(message):
    for turn in range(3):
        reply = respond(message, turn_index=turn, phase="reality").reply
        for quoted in quotes_in(reply):
            words = quoted.split()
            assert 1 <= len(words) <= 12, reply
            assert words[-1].lower().strip(",.;:") not in FUNCTION_WORDS, reply


@pytest.mark.parametrize("clause, limit, expected", [
    ("Priya and my other peers ignore my proposals in planning meetings", 12,
     "Priya and my other peers ignore my proposals in planning meetings"),
    ("I still take patients when we're short because it's the only bit I know", 6, "I still take patients"),
    ("I honestly can't tell you what a good week in this job looks like", 12, ""),  # ends on 'like'
    ("I've never really thought about which colleagues my store depends on", 5, ""),  # 'thought | about'
])
def test_trim_cuts_only_at_phrase_boundaries(clause, limit, expected):
    assert trim(clause, limit) == expected


def test_a_subject_and_its_appositive_are_not_a_clause():
    phrase = phrase_of("My peer Priya, head of product, keeps overriding my team's priorities", 9)
    assert phrase is not None and phrase.quoted == "Priya 'keeps overriding your team's priorities'"
    assert phrase_of("My peer Priya, head of product", 9) is None


def test_reflections_are_faithful_and_forms_vary():
    from agent.evals.graders_meaning import unfaithful_words

    bank, sits = load_bank(), load_situations()
    kinds, openings, invented = [], set(), []
    for message in MESSAGES:
        for turn in range(3):
            for r in reflect(message, bank, sits["general"], turn_index=turn):
                kinds.append(r.kind)
                openings.add(" ".join(r.text.split()[:2]))
                invented += unfaithful_words(re.sub(r"'[^']*'", " ", r.text), message)
    assert invented == []  # no feeling or value their words don't carry
    # Complex only where their words license it (named feelings, both sides, their goal): a third, not half.
    assert sum(k in COMPLEX for k in kinds) / len(kinds) >= 1 / 3
    assert len(set(kinds)) >= 4 and len(openings) >= 10
    assert not any(o.startswith("You said") for o in openings)


def test_two_sides_of_a_pull_become_part_of_you():
    bank, sit = load_bank(), load_situations()["former_peers"]
    [r] = reflect("I want to stay myself with them but also be taken seriously when I have to make a call.", bank,
                  sit, turn_index=0)
    assert r.kind == "part_of_you"
    assert r.text.startswith("Part of you wants to stay yourself with them, and part of you wants to be taken "
                             "seriously")


def test_a_feeling_that_belongs_to_someone_else_is_not_theirs():
    bank, sit = load_bank(), load_situations()["peer_conflict"]
    out = reflect("Maybe he's frustrated about something I haven't seen in the grants process.", bank, sit,
                  turn_index=0)
    assert "you feel frustrated" not in out[0].text


def test_every_turn_reflects_before_it_asks():
    for message in MESSAGES:
        out = respond(message, turn_index=1, phase="reality")
        assert len(first_sentences(out.reply)) >= 2
        assert not first_sentences(out.reply)[0].endswith("?")
        assert is_open_question(out.questions[0])


def test_a_question_never_quotes_a_clause_from_another_topic():
    for turn, phase in ((0, "goal"), (1, "reality"), (2, "reality"), (3, "options")):
        out = respond(TWO_TOPICS, PEER_NOTES, turn_index=turn, phase=phase, peer="Priya")
        question = out.questions[0]
        assert "meetings" not in question and "spend less time" not in question
        for quoted in quotes_in(question):
            assert "priorit" in quoted or "Priya" in question, question


def test_a_quoting_question_is_grammatical_and_on_topic():
    message = "The theatre manager and I clash every single week about beds. Her team blames my ward for delays."
    asked = [respond(message, PEER_NOTES, turn_index=t, phase="reality", peer="the theatre manager").questions[0]
             for t in range(3)]
    for q in asked:
        m = re.match(r"When you say (.+?), what", q)
        if m:
            said = m.group(1)
            assert re.match(r"^[A-Za-z' ]+ '", said), q  # a subject outside the quote: "her team 'blames ...'"
            assert said.rstrip("'").split()[-1].lower() not in FUNCTION_WORDS, q


def test_every_coaching_reply_cites_a_passage_it_was_given():
    out = respond(TWO_TOPICS, PEER_NOTES, turn_index=1, phase="reality", peer="Priya")
    assert out.cited_ids and set(out.cited_ids) <= {h.chunk.id for h in PEER_NOTES}
    assert "[1]" in out.reply and "“" not in out.reply  # cited, not quoted at length


def test_stuck_but_not_asking_gets_an_offer_not_an_idea_and_a_yes_gets_the_idea():
    from agent.coach.grow import gives_permission
    from agent.evals.graders import advice_in, asked_for_advice

    message = ("I want my peer in finance to trust me, but she never replies to my requests and I honestly "
               "don't know how to get her attention without pushing harder on my own priorities.")
    out = respond(message, PEER_NOTES, turn_index=3, phase="options", peer="your peer in finance")
    # An idea credited to "some managers" is still advice nobody asked for; the offer is made, the idea held back.
    assert "If it would help, I can share an idea from your notes" in out.reply, out.reply
    assert not advice_in(out.reply) and "Some managers" not in out.reply and len(out.questions) == 1
    assert gives_permission("Yes please, go ahead.", out.reply) and asked_for_advice("Yes please.", out.reply)
    again = respond("Yes please, go ahead.", PEER_NOTES, turn_index=4, phase="options", advice_permitted=True,
                    peer="your peer in finance")
    assert re.search(r"(?:one option is to|here's one option:) [^.]+ \[1\]\.", again.reply), again.reply
    assert again.cited_ids and again.questions


def test_no_idea_is_pressed_while_they_are_still_describing_reality():
    message = "My peer in finance keeps blocking my budget requests and we only talk when something breaks."
    out = respond(message, PEER_NOTES, turn_index=2, phase="reality", peer="your peer in finance")
    assert "Some managers" not in out.reply and "one option" not in out.reply.lower()


def test_asked_for_advice_gets_one_brief_cited_option_then_a_question():
    message = "My peer in finance keeps blocking me. What should I do about the relationship with my peer?"
    out = respond(message, PEER_NOTES, turn_index=2, phase="reality")
    assert re.search(r"one option is to [^.]+ \[1\]\.", out.reply) or "here's one option" in out.reply
    assert out.reply.count("[1]") == 1 and out.cited_ids
    assert out.reply.rstrip().endswith("?") and len(out.questions) == 1


@pytest.mark.parametrize("message, what, by_when", [
    ("I'll stop picking up tickets from the sprint board starting Monday, and I'll book one-to-ones by Friday.",
     "stop picking up tickets from the sprint board", "starting Monday"),
    ("I'll raise it at our one-to-one on Wednesday: start by asking how he's doing.",
     "raise it at your one-to-one", "on Wednesday"),
])
def test_a_plan_is_confirmed_in_one_clean_sentence(message, what, by_when):
    out = respond(message, phase="will", turn_index=6)
    assert out.reply.startswith(("So you'll", "Your plan: you'll"))
    assert f"{what}, {by_when}." in out.reply
    assert " ,"not in out.reply and ".," not in out.reply


def test_someone_elses_expectation_is_not_a_commitment():
    out = respond("They've started handing me rough drafts because they know I'll redo them anyway.",
                  phase="goal", turn_index=0)
    assert out.commitment is None and out.phase != "will"


@pytest.mark.parametrize("clause", [
    "Handling a kid who kicks off, deciding whether to call a parent, without ringing me first",
    "freeze whenever they have to make a call without me",
    "which, fine, but it's been six months",
])
def test_a_fragment_with_a_finite_verb_only_inside_it_is_not_given_back(clause):
    assert phrase_of(clause, 14) is None


@pytest.mark.parametrize("text, expected", [
    ("She promises clients things without asking us", "She promises clients things without asking you"),
    ("I want us to walk in on the same side", "you want all of you to walk in on the same side"),
    ("just the two of us", "just the two of you"),
    ("our US office", "your US office"),
])
def test_the_clients_us_becomes_you(text, expected):
    from agent.coach.quotes import shift_pronouns

    assert shift_pronouns(text) == expected


def test_a_sign_said_before_i_will_know_is_the_measure_and_itself_goes_with_the_day():
    from agent.coach.grow import extract_commitment

    c = extract_commitment("I will block thirty minutes with Ramesh on Thursday itself, and ask what he needs. "
                           "If he agrees to one monthly catch-up, then I will know it is working.")
    assert c is not None and c.by_when == "on Thursday itself" and "itself" not in c.what
    assert c.measure == "he agrees to one monthly catch-up"


@pytest.mark.parametrize("kind, index", [("second", 1), ("feeling", 0), ("feeling", 1), ("feeling", 2)])
def test_a_feeling_they_name_is_theirs_not_how_a_thing_sounds(kind, index):
    from agent.coach.reflect import _make

    text = _make(load_bank(), kind, index, event="he laughed it off", feeling="afraid", value="").text
    assert "sounds afraid" not in text and "be afraid for you" not in text and "afraid" in text, text


@pytest.mark.parametrize("clause, feeling", [
    ("Tenants call my team furious and we look useless", ""),
    ("the young ones are scared of me now, I can see it", ""),
    ("I think I'm afraid of seeing him hurt", "afraid"),
    ("My boss makes me anxious", "anxious"),
])
def test_a_feeling_is_theirs_only_when_they_are_the_one_feeling_it(clause, feeling):
    from agent.coach.lexicon import own_feeling

    assert own_feeling([clause])[0] == feeling


def test_a_goal_is_not_cut_between_a_verb_and_its_preposition():
    from agent.coach.reading import goal_of

    goal = goal_of("I want the shift to run without me having to jump on a machine every time something breaks.")
    assert "jump on a machine" in goal or "jump" not in goal
