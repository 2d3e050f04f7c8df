"""Provider construction from settings, and the retry policy's classification and timing."""

from __future__ import annotations

import pytest

from agent.coach.engines import build_engine
from agent.coach.llm_engine import LLMEngine
from agent.core.errors import ConfigError, ProviderError
from agent.core.settings import load_settings
from agent.providers.factory import build_chat_model
from agent.providers.retry import Fault, RetryPolicy, call_with_retry, classify, stream_with_retry
from tests.fakes import RecordingChatModel


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)


def build(**kw):
    return build_chat_model(load_settings(**kw))


def test_openai_takes_the_key_from_the_environment_and_never_retries_itself(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-000000000000")
    model = build(provider="openai", model="gpt-x", timeout=7)
    assert type(model).__name__ == "ChatOpenAI"
    assert model.max_retries == 0 and model.model_name == "gpt-x" and model.request_timeout == 7
    assert model.openai_api_key.get_secret_value() == "sk-from-env-000000000000"
    assert "sk-from-env" not in repr(model) and "sk-from-env" not in str(model.model_dump())


def test_settings_key_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
    model = build(provider="anthropic", api_key="settings-key")
    assert type(model).__name__ == "ChatAnthropic" and model.max_retries == 0
    assert model.anthropic_api_key.get_secret_value() == "settings-key"


@pytest.mark.parametrize("provider, env", [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")])
def test_missing_key_is_a_one_line_config_error(provider, env):
    with pytest.raises(ConfigError, match=f"provider {provider} needs an API key: set {env}"):
        build(provider=provider)


def test_openai_compatible_sends_max_tokens_in_the_body_and_needs_a_url():
    model = build(provider="openai-compatible", base_url="http://127.0.0.1:8080/v1", max_tokens=200)
    assert model.extra_body == {"max_tokens": 200} and model.max_tokens is None
    assert model.openai_api_key.get_secret_value() == "x" and model.max_retries == 0
    assert str(model.openai_api_base).startswith("http://127.0.0.1:8080")
    with pytest.raises(ConfigError, match="needs a base_url"):
        build(provider="openai-compatible")


def test_ollama_defaults_to_the_local_daemon():
    model = build(provider="ollama", max_tokens=99)
    assert type(model).__name__ == "ChatOllama"
    assert model.base_url == "http://127.0.0.1:11434" and model.num_predict == 99


def test_llamacpp_needs_an_existing_model_file(tmp_path):
    with pytest.raises(ConfigError, match="needs model_path"):
        build(provider="llamacpp")
    with pytest.raises(ConfigError, match="does not exist"):
        build(provider="llamacpp", model_path=str(tmp_path / "missing.gguf"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    model = build(provider="llamacpp", model_path=str(gguf), max_tokens=64)
    assert type(model).__name__ == "LocalLlamaChat" and model.max_tokens == 64 and model.chat_format == "chatml"


def test_offline_has_no_chat_model():
    with pytest.raises(ConfigError, match="offline has no chat model"):
        build(provider="offline")


def test_build_engine_wraps_a_given_chat_model():
    engine = build_engine(load_settings(provider="openai-compatible", base_url="http://x/v1"),
                          chat_model=RecordingChatModel())
    assert isinstance(engine, LLMEngine) and engine.spec.variant == "default"


def test_build_engine_offline_gives_the_offline_engine():
    pytest.importorskip("agent.coach.offline")
    assert build_engine(load_settings(provider="offline")).name != "llm"


class StatusError(Exception):
    def __init__(self, status, headers=None):
        super().__init__(f"HTTP {status} from server")
        self.status_code = status
        self.response = type("R", (), {"status_code": status, "headers": headers or {}})()


@pytest.mark.parametrize("exc, kind, retryable", [
    (StatusError(429), "rate_limit", True),
    (StatusError(503), "server", True),
    (StatusError(529), "server", True),
    (StatusError(400), "client", False),
    (StatusError(404), "client", False),
    (TimeoutError(), "timeout", True),
    (ConnectionRefusedError(), "refused", True),
    (ProviderError("x"), "client", False),
])
def test_classify(exc, kind, retryable):
    fault = classify(exc)
    assert (fault.kind, fault.retryable) == (kind, retryable)


def test_bugs_are_not_provider_faults():
    assert classify(KeyError("x")) is None
    calls = []
    with pytest.raises(KeyError):
        call_with_retry(lambda: calls.append(1) or {}["x"], provider="p", policy=RetryPolicy(sleep=lambda s: None))
    assert calls == [1]


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=lambda: 1.0)
    fault = Fault("server", True, "x")
    assert [policy.delay(n, fault) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    low = RetryPolicy(base_delay=0.5, rng=lambda: 0.0)
    assert low.delay(1, fault) == 0.25


def test_retry_after_is_honoured_and_capped():
    policy = RetryPolicy(max_retry_after=5.0)
    assert policy.delay(1, classify(StatusError(429, {"retry-after": "2"}))) == 2.0
    assert policy.delay(1, classify(StatusError(429, {"retry-after": "120"}))) == 5.0


def test_gives_up_after_max_retries_with_one_line():
    slept: list[float] = []
    policy = RetryPolicy(max_retries=2, sleep=slept.append, rng=lambda: 1.0, base_delay=0.1)
    attempts = []

    def failing():
        attempts.append(1)
        raise StatusError(503)

    with pytest.raises(ProviderError) as info:
        call_with_retry(failing, provider="openai", policy=policy)
    assert str(info.value) == "provider openai failed after 3 tries: server error (HTTP 503): HTTP 503 from server"
    assert len(attempts) == 3 and slept == [0.1, 0.2]


def test_stream_retries_only_before_the_first_item():
    policy = RetryPolicy(max_retries=3, sleep=lambda s: None)
    tries = []

    def make():
        tries.append(1)
        if len(tries) == 1:
            raise TimeoutError()

        def gen():
            yield "a"
            yield "b"
            raise ConnectionResetError("dropped")

        return gen()

    got = []
    with pytest.raises(ProviderError, match="failed mid-stream: cannot connect"):
        for item in stream_with_retry(make, provider="p", policy=policy):
            got.append(item)
    assert got == ["a", "b"] and len(tries) == 2


def test_llamacpp_window_fits_budget_and_a_re_ask_and_overflow_is_one_line(tmp_path):
    from langchain_core.messages import HumanMessage

    from agent.core.errors import ProviderError
    from agent.providers.factory import REPAIR_HEADROOM, build_chat_model
    from agent.providers.llamacpp import LocalLlamaChat

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    settings = load_settings(provider="llamacpp", model_path=str(gguf), context_budget=3000, max_tokens=512)
    model = build_chat_model(settings)
    assert model.n_ctx == 3000 + 2 * 512 + REPAIR_HEADROOM

    class Overflowing:
        def create_chat_completion(self, **kw):
            raise ValueError("Requested tokens (2050) exceed context window of 2048")

    chat = LocalLlamaChat(model_path=str(gguf), n_ctx=2048)
    chat._llama = Overflowing()
    for call in (lambda: chat.invoke([HumanMessage("hi")]), lambda: list(chat.stream([HumanMessage("hi")]))):
        with pytest.raises(ProviderError, match="context window of 2048") as err:
            call()
        assert "\n" not in str(err.value) and "COACH_CONTEXT_BUDGET" in str(err.value)
