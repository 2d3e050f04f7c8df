"""Record against the recording fake, replay with no model at all, and get the same bytes back."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from agent.evals.cassette import CassetteChatModel, CassetteMiss, cassette_key, cassette_path
from tests.fakes import RecordingChatModel

PROMPT = [SystemMessage(content="You coach. Marker CANARY-abc123."), HumanMessage(content="My peer ignores me.")]
REPLY = 'It sounds lonely. What would "better" look like with her? — ünïcödé ✓'


def recorder(tmp_path, inner, **kw) -> CassetteChatModel:
    return CassetteChatModel(path=cassette_path(tmp_path, "openai", "gpt-4o-mini"), provider="openai",
                             model="gpt-4o-mini", mode="record", inner=inner, **kw)


def player(tmp_path, **kw) -> CassetteChatModel:
    return CassetteChatModel(path=cassette_path(tmp_path, "openai", "gpt-4o-mini"), provider="openai",
                             model="gpt-4o-mini", mode="replay", **kw)


def test_record_then_replay_gives_identical_output_without_the_model(tmp_path):
    fake = RecordingChatModel(script=[REPLY])
    recorded = recorder(tmp_path, fake).invoke(PROMPT)
    assert fake.calls == [PROMPT]
    assert (tmp_path / "openai-gpt-4o-mini.jsonl").is_file()
    untouched = RecordingChatModel(script=[])
    replayed = player(tmp_path, inner=untouched).invoke(PROMPT)
    assert replayed.content == recorded.content == REPLY
    assert untouched.calls == []


def test_streaming_replays_the_same_chunks(tmp_path):
    fake = RecordingChatModel(script=[REPLY], chunk_size=5)
    live = [c.content for c in recorder(tmp_path, fake).stream(PROMPT)]
    assert fake.streamed == [True] and len(live) > 3
    again = [c.content for c in player(tmp_path).stream(PROMPT)]
    assert again == live and "".join(again) == REPLY
    assert player(tmp_path).invoke(PROMPT).content == REPLY  # a streamed recording also answers invoke


def test_invoke_recording_streams_as_one_chunk(tmp_path):
    recorder(tmp_path, RecordingChatModel(script=[REPLY])).invoke(PROMPT)
    assert [c.content for c in player(tmp_path).stream(PROMPT) if c.content] == [REPLY]


def test_miss_raises_a_clear_error_naming_the_key(tmp_path):
    recorder(tmp_path, RecordingChatModel(script=[REPLY])).invoke(PROMPT)
    other = [PROMPT[0], HumanMessage(content="Something else entirely.")]
    with pytest.raises(CassetteMiss) as err:
        player(tmp_path).invoke(other)
    key = player(tmp_path).key_for(other, None, {})
    assert key in str(err.value) and "openai/gpt-4o-mini" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CassetteMiss):
        list(player(tmp_path).stream(other))


def test_key_depends_on_provider_model_messages_params_and_sample_but_not_the_canary():
    base = cassette_key("openai", "m", PROMPT, {"sample": 0})
    masked = [SystemMessage(content="You coach. Marker CANARY-zz9."), PROMPT[1]]
    assert cassette_key("openai", "m", masked, {"sample": 0}) == base
    assert cassette_key("anthropic", "m", PROMPT, {"sample": 0}) != base
    assert cassette_key("openai", "m2", PROMPT, {"sample": 0}) != base
    assert cassette_key("openai", "m", PROMPT, {"sample": 1}) != base
    assert cassette_key("openai", "m", PROMPT[:1], {"sample": 0}) != base


def test_repeats_are_recorded_as_separate_samples(tmp_path):
    fake = RecordingChatModel(script=["first", "second"])
    assert recorder(tmp_path, fake, sample=0).invoke(PROMPT).content == "first"
    assert recorder(tmp_path, fake, sample=1).invoke(PROMPT).content == "second"
    assert player(tmp_path, sample=1).invoke(PROMPT).content == "second"
    assert player(tmp_path, sample=0).invoke(PROMPT).content == "first"


class Draft(BaseModel):
    reply: str
    phase: str


def test_structured_output_through_tools_replays(tmp_path):
    fake = RecordingChatModel(script=[{"reply": "What matters?", "phase": "goal"}], supports_tools=True)
    live = recorder(tmp_path, fake).with_structured_output(Draft).invoke(PROMPT)
    assert fake.call_kwargs[0]["tools"][0]["function"]["name"] == "Draft"
    assert player(tmp_path).with_structured_output(Draft).invoke(PROMPT) == live == Draft(reply="What matters?",
                                                                                         phase="goal")


def test_a_truncated_last_line_is_skipped_not_fatal(tmp_path):
    recorder(tmp_path, RecordingChatModel(script=[REPLY])).invoke(PROMPT)
    path = tmp_path / "openai-gpt-4o-mini.jsonl"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "abc", "message": {"ty')
    p = player(tmp_path)
    assert p.invoke(PROMPT).content == REPLY
    assert p.cassette.skipped_lines == 1
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["provider"] == "openai"


def test_tool_support_is_replayed_as_recorded(tmp_path):
    with pytest.raises(NotImplementedError):
        recorder(tmp_path, RecordingChatModel(script=[])).bind_tools([Draft])
    recorder(tmp_path, RecordingChatModel(script=[REPLY])).invoke(PROMPT)  # a cassette recorded in JSON mode
    with pytest.raises(NotImplementedError):
        player(tmp_path).bind_tools([Draft])
