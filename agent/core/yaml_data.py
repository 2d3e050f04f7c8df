"""Loading YAML data files into pydantic models, with every failure as one ConfigError line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agent.core.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader when built: same result, faster


def check_regexes(patterns: Iterable[str], noun: str = "pattern") -> None:
    """Raise ValueError naming the first pattern that does not compile (for pydantic validators)."""
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bad {noun} {pattern!r}: {exc}") from None


def parse_yaml(text: str) -> object:
    """yaml.load(text), remembered on disk by content: the coach's data files cost ~0.1 s to parse per process."""
    import hashlib

    from agent.core import marshal_file
    from agent.core.homes import cache_dir

    folder = cache_dir()
    path = folder / f"yaml-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:24]}.marshal" if folder else None
    cached = marshal_file.read(path) if path is not None and path.is_file() else None
    if isinstance(cached, dict) and cached.get("v") == 1:
        return cached["data"]
    data = yaml.load(text, Loader=_LOADER)
    if path is not None:
        marshal_file.write(path, {"v": 1, "data": data})  # dates or other non-plain values: not cached
    return data


def load_model(path: Path | str, model: type[M], what: str) -> M:
    """Parse and validate `path` as `model`; `what` names the file in the error ("question bank")."""
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} is missing") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.strerror or type(exc).__name__}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problem = f"line {mark.line + 1}: {getattr(exc, 'problem', None) or first}" if mark else first
        raise ConfigError(f"{what} {path} is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must be a mapping, not {'nothing' if data is None else type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{what} {path}: {where + ': ' if where else ''}{err['msg']}") from None
