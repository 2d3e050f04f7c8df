"""Settings come from env and an optional TOML file; broken config is one clear line."""

from __future__ import annotations

import pytest

from agent.core.errors import ConfigError
from agent.core.settings import load_settings


def test_home_from_env_points_everything_at_one_dir(coach_home):
    s = load_settings()
    assert s.home == coach_home
    assert s.index_dir.parent == coach_home and s.db_path.parent == coach_home


def test_defaults_are_offline_and_keyless():
    s = load_settings()
    assert s.provider == "offline" and s.api_key is None


def test_config_file_is_read_and_env_wins(coach_home, monkeypatch):
    coach_home.mkdir(parents=True)
    (coach_home / "config.toml").write_text('[coach]\nprovider = "ollama"\ntop_k = 7\n')
    s = load_settings()
    assert (s.provider, s.top_k) == ("ollama", 7)
    monkeypatch.setenv("COACH_TOP_K", "3")
    assert load_settings().top_k == 3


def test_unknown_key_is_one_line_error(coach_home):
    coach_home.mkdir(parents=True)
    (coach_home / "config.toml").write_text('provder = "x"\n')
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "provder" in str(exc.value) and "\n" not in str(exc.value)


def test_wrong_type_is_one_line_error(monkeypatch):
    monkeypatch.setenv("COACH_TOP_K", "many")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "top_k" in str(exc.value) and "\n" not in str(exc.value)


def test_bad_provider_is_rejected(monkeypatch):
    monkeypatch.setenv("COACH_PROVIDER", "gpt-llama")
    with pytest.raises(ConfigError, match="provider"):
        load_settings()


def test_invalid_toml_is_one_line_error(coach_home):
    coach_home.mkdir(parents=True)
    (coach_home / "config.toml").write_text("provider = = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_missing_explicit_config_file(monkeypatch, tmp_path):
    monkeypatch.setenv("COACH_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_api_key_is_secret(monkeypatch):
    monkeypatch.setenv("COACH_API_KEY", "sk-test-123456")
    s = load_settings()
    assert "sk-test-123456" not in repr(s) and "sk-test-123456" not in str(s.model_dump())
