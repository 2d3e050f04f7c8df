"""One typed settings object, read from COACH_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.core.errors import ConfigError
from agent.core.homes import config_path, default_home, expand

Provider = Literal["offline", "openai", "anthropic", "ollama", "openai-compatible", "llamacpp"]
PROVIDERS: tuple[str, ...] = Provider.__args__  # type: ignore[attr-defined]


def _config_path() -> Path:
    return config_path()


class _TomlSource(PydanticBaseSettingsSource):
    """Reads config.toml (COACH_CONFIG or COACH_HOME/config.toml); env vars win over it."""

    def get_field_value(self, field, field_name):  # pragma: no cover - unused by __call__
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_path()
        if not path.is_file():
            if os.environ.get("COACH_CONFIG"):
                raise ConfigError(f"config file {path} does not exist")
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        return data.get("coach", data)


class Settings(BaseSettings):
    """Everything configurable; COACH_HOME points index, database and logs at one folder."""

    model_config = SettingsConfigDict(env_prefix="COACH_", extra="forbid", validate_default=True)

    home: Path = Field(default_factory=default_home)
    provider: Provider = "offline"
    model: str = ""
    base_url: str = ""
    api_key: SecretStr | None = None
    model_path: str = ""  # a local GGUF for the llamacpp provider
    temperature: float = Field(0.3, ge=0.0, le=2.0)
    max_tokens: int = Field(512, ge=16, le=32_768)
    timeout: float = Field(60.0, gt=0, le=3600)
    max_retries: int = Field(3, ge=0, le=10)
    prompt_variant: str = "default"
    chroma_url: str = ""  # http://host:port uses a Chroma server instead of the embedded store
    database_url: str = ""  # postgresql://... ; empty means SQLite in home
    embedder: Literal["minilm", "hash"] = "minilm"  # hash is a deterministic fake for fast tests
    top_k: int = Field(4, ge=1, le=50)
    context_budget: int = Field(3000, ge=256, le=1_000_000)
    max_file_mb: float = Field(20.0, gt=0, le=2048)
    index_bundled_corpus: bool = True
    safety_second_opinion: bool = True  # gray-zone check-ins get the chat model's reading (not offline)
    serve: bool = True  # coach ask and chat hand their turns to a running `coach serve` for this home

    @field_validator("home", mode="after")
    @classmethod
    def _expand(cls, v: Path) -> Path:
        return expand(v)  # a ConfigError, which is a ValueError, for "~nobody"

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def db_path(self) -> Path:
        return self.home / "coach.db"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning every validation problem into a one-line ConfigError."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "config"
        raise ConfigError(f"bad setting {where}: {err.get('msg')}") from None
