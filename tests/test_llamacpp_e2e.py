"""The LLM engine against a real llama.cpp server and in process, with Gemma 3 270M: plumbing, not coaching quality."""

from __future__ import annotations

import pytest

from agent.coach.engine import EngineInput, EngineOutput
from agent.coach.llm_engine import LLMEngine
from agent.coach.parsing import PHASES
from agent.core.settings import load_settings
from agent.core.types import Chunk, Hit
from agent.providers.factory import build_chat_model
from agent.store.memory import open_store
from tests.conftest_llm import THREADS, gemma_path, llama_server  # noqa: F401  (session fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.timeout(900)]

HIT = Hit(chunk=Chunk(id="notes.md#e2e0-0", source="notes.md", title="Owning my part",
                      text="When a working relationship sours, the part I can change is my own.", chunk=0,
                      start=0, end=70), score=1.0)
INP = EngineInput(message="My peer Sam keeps missing our handoffs and I am frustrated.", hits=[HIT], peer="Sam",
                  asked=["What matters most to you here?"])


def settings_for(**kw):
    base = dict(max_tokens=256, timeout=240, context_budget=1500, prompt_variant="concise", max_retries=0)
    return load_settings(**{**base, **kw})


def assert_valid(out: EngineOutput) -> None:
    assert isinstance(out, EngineOutput) and out.reply.strip()
    assert len(out.questions) <= 2 and out.phase in PHASES and len(out.openers) <= 3
    assert set(out.cited_ids) <= {HIT.chunk.id}


def test_server_turn_gives_a_valid_output_and_is_logged(llama_server, tmp_path):  # noqa: F811
    settings = settings_for(provider="openai-compatible", base_url=llama_server.base_url, model="gemma")
    store = open_store(load_settings(home=tmp_path))
    engine = LLMEngine(build_chat_model(settings), settings, store=store)
    assert_valid(engine.respond(INP))
    calls = store.model_calls()
    assert calls and calls[-1]["error"] == "" and calls[-1]["model"] == "gemma" and calls[-1]["ms"] > 0
    store.close()


def test_server_stream_yields_text_then_the_output(llama_server):  # noqa: F811
    settings = settings_for(provider="openai-compatible", base_url=llama_server.base_url, model="gemma")
    items = list(LLMEngine(build_chat_model(settings), settings).stream(INP))
    deltas, final = items[:-1], items[-1]
    assert_valid(final)
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas).strip()


def test_in_process_llamacpp_provider_gives_a_valid_output(gemma_path):  # noqa: F811
    settings = settings_for(provider="llamacpp", model_path=str(gemma_path), max_tokens=160)
    model = build_chat_model(settings).model_copy(update={"n_threads": int(THREADS)})
    assert_valid(LLMEngine(model, settings).respond(INP))
