"""Rebuild agent/ingest/data/bundled_index.tar.gz (the bundled corpus's index, shipped) and its manifest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.ingest.shipped import build  # noqa: E402

if __name__ == "__main__":
    print(json.dumps(build(ROOT / "corpus"), indent=1))
