"""A weak model that echoes the prompt's own format or instruction text: none of it reaches the person."""

from __future__ import annotations

import re

import pytest

from agent.coach.engine import EngineInput
from agent.coach.llm_engine import FALLBACK_REPLY, LLMEngine
from agent.coach.pipeline import Coach
from agent.core.prompts import list_variants, load_prompt
from agent.core.settings import load_settings
from agent.core.types import CoachTurn, Safety
from agent.evals.graders_outcome import leak_problem
from agent.providers.retry import RetryPolicy
from agent.safety.guard import safe_reply
from agent.safety.leaks import check_output, strip_echoes, visible_part
from tests.coach_helpers import home_with_corpus
from tests.fakes import RecordingChatModel, json_reply

VARIANTS = list_variants("coach")
CANARY = "CANARY-0123456789abcdef"
# What Gemma 3 270M answered, call after call, to the default prompt (recorded in evals/cassettes/, now openai-compatible-gemma.jsonl).
GEMMA = {"reply": "<your reflection, then your one question, as the person will read it>",
         "question": "<the one open question, repeated exactly, or an empty string>",
         "cited_ids": ["<passage ids you leaned on>"], "phase": "goal",
         "openers": [{"text": "<what they could say>", "why": "<why it could work>",
                      "cited_id": "<passage id or empty>"}],
         "commitment": {"what": "...", "by_when": "...", "measure": "..."}}
MESSAGE = "Three weeks ago I got promoted to team lead and my days are all meetings now."


def instructions(variant: str) -> str:
    spec = load_prompt("coach", variant)
    return f"{spec.system}\n{spec.user}\n{spec.repair}"


def placeholders(variant: str) -> list[str]:
    """Every <placeholder> in the variant's templates, brackets included."""
    return sorted(set(re.findall(r"<[^<>\n{}]+>", instructions(variant))))


def instruction_sentence(variant: str) -> str:
    """A sentence of the variant's system prompt, at least five words and no variable."""
    text = load_prompt("coach", variant).system
    found = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text)
             if len(s.split()) >= 5 and "{" not in s and "<" not in s and s.strip()[:1].isalpha()]
    return found[0]


def echo_reply(variant: str) -> dict:
    """The variant's own format and instruction text, in every field a person sees."""
    holders = placeholders(variant) or ['"reply": "..."']
    return {"reply": f"{instruction_sentence(variant)} {holders[0]}", "question": holders[-1],
            "phase": "goal", "openers": [{"text": holders[-1], "why": instruction_sentence(variant)}]}


def leaked(text: str, variant: str) -> str:
    """Why text shows the variant's prompt (a placeholder, a JSON key, 5+ words of it in a row), or ''."""
    folded = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    for holder in placeholders(variant):
        inner = " ".join(re.findall(r"[a-z0-9]+", holder.lower()))
        if holder.lower() in text.lower() or (len(inner.split()) > 1 and f" {inner} " in f" {folded} "):
            return f"placeholder {holder}"
    if re.search(r'"[a-z_]+"\s*:', text):
        return "a JSON key"
    prompt = " ".join(re.findall(r"[a-z0-9]+", re.sub(r"\{\w+\}", " | ", instructions(variant)).lower()))
    ws = folded.split()
    for i in range(len(ws) - 4):
        if f" {' '.join(ws[i:i + 5])} " in f" {prompt} ":
            return f"prompt words {' '.join(ws[i:i + 5])!r}"
    return leak_problem(text, CANARY, load_prompt("coach", variant).system)


def said(turn: CoachTurn) -> list[str]:
    return [turn.reply, *turn.questions, *(f"{o.text} {o.why}" for o in turn.openers)]


# -- the guardrail on its own --------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
def test_every_placeholder_and_instruction_sentence_of_a_variant_is_removed(variant):
    text = instructions(variant)
    for holder in placeholders(variant):
        assert check_output(holder, canary=CANARY, system_prompt=text) == ("", True), holder
        assert strip_echoes(f"You sound stretched. {holder}", text) == ("You sound stretched.", True), holder
    sentence = instruction_sentence(variant)
    assert check_output(f"You sound stretched. {sentence}", canary=CANARY, system_prompt=text) == \
        ("You sound stretched.", True)
    assert check_output('I hear you. "reply": "x"', canary=CANARY, system_prompt=text) == ("I hear you.", True)


@pytest.mark.parametrize("variant", VARIANTS)
def test_ordinary_coaching_text_is_left_alone(variant):
    text = instructions(variant)
    for reply in ("It sounds like the meetings leave you with nothing to show. What would a good day look like?",
                  "You feel stuck. What is happening now?", "How will you know it happened?",
                  "I'd rate that <5 out of 10 myself. What would make it a 7 for you?", FALLBACK_REPLY,
                  safe_reply(Safety(category="output_fixed", action="repaired"))):
        assert check_output(reply, canary=CANARY, system_prompt=text) == (reply, False)
        assert strip_echoes(reply, text) == (reply, False)


def test_a_placeholder_cut_off_by_the_token_limit_is_still_removed():
    text = instructions("default")
    assert strip_echoes("You miss the code. <your reflection, then your one", text) == ("You miss the code.", True)


def test_a_streamed_reply_shows_only_what_the_final_check_keeps():
    text = instructions("default")
    reply = ("It sounds like the meetings drain you. <the one open question, repeated exactly, or an empty string> "
             "Begin every reply by reflecting the person's own words back. What would a good day look like?")
    shown = ""
    for end in range(1, len(reply) + 1):
        now = visible_part(reply[:end], canary=CANARY, system_prompt=text)
        assert now.startswith(shown) and "<" not in now and "Begin every" not in now
        shown = now
    final = check_output(reply, canary=CANARY, system_prompt=text)[0]
    assert shown == "It sounds like the meetings drain you." and final.startswith(shown)
    assert final == "It sounds like the meetings drain you. What would a good day look like?"


# -- the engine: an echo is no answer, so it is re-asked once and then falls back ----------------------------------

def engine_for(script, variant="default", tools=True) -> tuple[LLMEngine, RecordingChatModel]:
    fake = RecordingChatModel(script=list(script), supports_tools=tools)
    settings = load_settings(provider="openai-compatible", base_url="http://127.0.0.1:9/v1", prompt_variant=variant)
    return LLMEngine(fake, settings, retry_policy=RetryPolicy(max_retries=0, sleep=lambda s: None)), fake


@pytest.mark.parametrize("stream", [False, True])
def test_gemma_echo_gets_one_repair_then_the_fallback(stream):
    engine, fake = engine_for([GEMMA, GEMMA])
    if stream:
        items = list(engine.stream(EngineInput(message=MESSAGE)))
        deltas, out = items[:-1], items[-1]
        assert "".join(deltas) == out.reply
    else:
        out = engine.respond(EngineInput(message=MESSAGE))
    assert len(fake.calls) == 2 and "JSON" in str(fake.calls[1][-1].content)  # re-asked once, like bad JSON
    assert out.fallback and "<" not in out.model_dump_json()  # the offline engine's turn, no template text
    assert out.reply != FALLBACK_REPLY and out.questions


@pytest.mark.parametrize("stream", [False, True])
def test_a_placeholder_of_the_models_own_is_no_answer_either(stream):
    # Recorded from Gemma 2026-12-07: a cut-off echo as the reply and an invented <placeholder> as the question.
    own = {**GEMMA, "reply": "<the one open question, repeated exactly", "question": "<what she's going to do>"}
    engine, _ = engine_for([own, own])
    if stream:
        out = list(engine.stream(EngineInput(message=MESSAGE)))[-1]
    else:
        out = engine.respond(EngineInput(message=MESSAGE))
    assert out.fallback and "<" not in out.reply and out.reply != FALLBACK_REPLY


def test_a_partial_echo_keeps_the_real_part_and_drops_the_echoed_question():
    reply = "It sounds like you miss the craft. <your reflection, then your one question, as the person will read it>"
    engine, fake = engine_for([dict(GEMMA, reply=reply)])
    out = engine.respond(EngineInput(message=MESSAGE))
    assert len(fake.calls) == 1
    assert out.reply == "It sounds like you miss the craft." and out.questions == []


def test_an_echoed_tool_field_description_is_dropped():
    engine, fake = engine_for([dict(GEMMA, reply="You miss the craft.", question="the one open question, or empty")])
    out = engine.respond(EngineInput(message=MESSAGE))
    sent_schema = str(fake.call_kwargs[0]["tools"])
    assert "the one open question, or empty" in sent_schema  # the model was shown it in the tool schema
    assert out.reply == "You miss the craft." and out.questions == []


def test_the_stream_never_shows_an_echo_it_will_drop():
    reply = ("You miss the craft. <the one open question, repeated exactly, or an empty string> "
             "What does a good day as a lead look like?")
    engine, _ = engine_for([json_reply(reply=reply, question="What does a good day as a lead look like?")],
                           tools=False)
    items = list(engine.stream(EngineInput(message=MESSAGE)))
    assert "".join(items[:-1]) == items[-1].reply == "You miss the craft. What does a good day as a lead look like?"


# -- the whole turn: reply, questions, openers and the stream --------------------------------------------------------

@pytest.fixture
def settings(coach_home):
    return home_with_corpus(coach_home, max_retries=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_echo_reaches_the_turn_or_the_stream(settings, variant):
    fake = RecordingChatModel(default=echo_reply(variant), supports_tools=True)
    coach = Coach(settings.model_copy(update={"prompt_variant": variant}), chat_model=fake)
    sid = None
    for message in (MESSAGE, "My peer Marcus on the platform team blocks every proposal we make."):
        pieces = list(coach.stream_turn(sid, message))
        turn, streamed = pieces[-1], "".join(pieces[:-1])
        sid = turn.session
        for text in [streamed, *said(turn)]:
            assert not leaked(text, variant), (variant, text, leaked(text, variant))
        assert turn.reply.strip()
    coach.close()


def test_an_instruction_echo_in_the_question_is_dropped_and_flagged(settings):
    sentence = instruction_sentence("concise")
    fake = RecordingChatModel(default=json_reply(reply="You sound stretched thin.", question=sentence))
    coach = Coach(settings.model_copy(update={"prompt_variant": "concise"}), chat_model=fake)
    turn = coach.turn(None, MESSAGE)
    assert sentence not in " ".join(said(turn)) and turn.reply.startswith("You sound stretched thin.")
    assert turn.safety.category == "output_fixed"
    coach.close()


def test_a_turn_the_guardrails_empty_completely_gets_their_repaired_reply(settings):
    sentence = instruction_sentence("concise")
    fake = RecordingChatModel(default=json_reply(reply=sentence, question=sentence))
    coach = Coach(settings.model_copy(update={"prompt_variant": "concise"}), chat_model=fake)
    turn = coach.turn(None, MESSAGE)
    assert turn.reply == safe_reply(Safety(category="output_fixed", action="repaired"))
    assert turn.questions == [turn.reply.split(". ")[-1]]  # its question counts, so a later turn will not repeat it
    assert turn.safety.category == "output_fixed" and sentence not in " ".join(said(turn))
    coach.close()
