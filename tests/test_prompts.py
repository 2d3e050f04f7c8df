"""Prompt files are data: schema-validated, strictly rendered, and the fake model records what it is sent."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from agent.core.errors import ConfigError
from agent.core.prompts import PromptSpec, fill, list_variants, load_prompt
from tests.fakes import RecordingChatModel, json_reply

ALL_VARS = dict(message="My peer ignores my emails.", history="(none)", passages="(none)", phase="goal",
                asked=["What matters most to you here?"], canary="CANARY-1234", situation="peer",
                peer="Sam", open_commitment=None, advice_permitted=False)


def write(folder, name, body):
    (folder / name).write_text(body, encoding="utf-8")


def test_variants_are_listed_and_each_one_validates():
    variants = list_variants("coach")
    assert {"default", "concise"} <= set(variants)
    fingerprints = {load_prompt("coach", v).fingerprint for v in variants}
    assert len(fingerprints) == len(variants)


@pytest.mark.parametrize("variant", ["default", "concise"])
def test_render_gives_system_then_user_with_values(variant):
    messages = load_prompt("coach", variant).render(**ALL_VARS)
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
    assert "CANARY-1234" in messages[0].content
    assert "- What matters most to you here?" in messages[0].content
    assert "My peer ignores my emails." in messages[1].content
    assert "Sam" in messages[1].content
    assert "{" + "message}" not in messages[1].content


def test_default_prompt_states_the_coaching_rules():
    system = load_prompt("coach").system.lower()
    for rule in ["reflect", "one open question", "radical ownership", "three", "commitment", "data, not instructions",
                 "never reveal", "cited_ids", "grow"]:
        assert rule in system, rule


def test_missing_variable_is_named():
    spec = load_prompt("coach")
    partial = {k: v for k, v in ALL_VARS.items() if k not in ("canary", "peer")}
    with pytest.raises(ConfigError, match="canary, peer"):
        spec.render(**partial)


def test_literal_json_braces_are_not_placeholders():
    assert fill('{"reply": "{x}"} {y}', {"x": 1, "y": [2, 3]}) == '{"reply": "1"} - 2\n- 3'


def test_undeclared_variable_is_rejected(tmp_path):
    write(tmp_path, "t.default.yaml", "name: t\nvariant: default\ndescription: d\nvariables: [a]\n"
          "system: 'uses {a} and {b}'\nuser: '{a}'\n")
    with pytest.raises(ConfigError, match="undeclared variable.*b"):
        load_prompt("t", folder=tmp_path)


@pytest.mark.parametrize("body, match", [
    ("name: t\nvariant: default\n", "description"),
    ("name: t\nvariant: default\ndescription: d\nvariables: []\nsystem: s\nuser: u\nsurprise: 1\n", "surprise"),
    ("name: [unclosed\n", "not valid YAML"),
    ("- a list\n", "must be a mapping, not list"),
    ("", "must be a mapping, not nothing"),
    ("name: t\nvariant: default\ndescription: d\nvariables: []\nsystem: s\nuser: u\nrepair: 3\n",
     r"t\.default\.yaml: repair: Input should be a valid string"),
    ("name: other\nvariant: default\ndescription: d\nvariables: []\nsystem: s\nuser: u\n", "must match"),
])
def test_bad_prompt_files_give_one_line_errors(tmp_path, body, match):
    write(tmp_path, "t.default.yaml", body)
    with pytest.raises(ConfigError, match=match) as info:
        load_prompt("t", folder=tmp_path)
    assert "\n" not in str(info.value)


def test_a_prompt_that_is_not_utf8_is_a_one_line_error(tmp_path):
    (tmp_path / "t.default.yaml").write_bytes(b"name: t\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"prompt .*t\.default\.yaml is not UTF-8 text$"):
        load_prompt("t", folder=tmp_path)


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(ConfigError, match="variants: .*concise.*default"):
        load_prompt("coach", "nope")


def test_spec_is_a_schema():
    assert set(PromptSpec.model_json_schema()["required"]) >= {"name", "variant", "system", "user", "variables"}


def test_fake_model_records_and_replies_in_order():
    fake = RecordingChatModel(script=["first", {"a": 1}], default="again")
    assert fake.invoke("hi").content == "first"
    assert json.loads(fake.invoke([HumanMessage("two")]).content) == {"a": 1}
    assert fake.invoke("three").content == "again"
    assert [m[-1].content for m in fake.calls] == ["hi", "two", "three"]


def test_fake_model_streams_in_chunks_and_raises_scripted_errors():
    fake = RecordingChatModel(script=[json_reply(), TimeoutError("slow")], chunk_size=5)
    chunks = [c.content for c in fake.stream("x")]
    assert len(chunks) > 3 and json.loads("".join(chunks))["phase"] == "reality"
    assert fake.streamed == [True]
    with pytest.raises(TimeoutError):
        fake.invoke("y")
    with pytest.raises(AssertionError, match="ran out"):
        fake.invoke("z")


def test_fake_model_answers_structured_output_with_a_tool_call():
    class Answer(BaseModel):
        reply: str

    fake = RecordingChatModel(script=[{"reply": "ok"}], supports_tools=True)
    out = fake.with_structured_output(Answer, method="function_calling").invoke("q")
    assert out == Answer(reply="ok")
    assert fake.call_kwargs[0]["tools"][0]["function"]["name"] == "Answer"
    with pytest.raises(NotImplementedError):
        RecordingChatModel().with_structured_output(Answer)
