"""Turn Markdown, text, HTML and PDF files into cleaned, chunked sources in the index.

Layer 2: may import agent.core and agent.index. Names below load on first use, so importing a submodule stays cheap.
"""

from __future__ import annotations

from typing import Any

_NAMES = {
    "chunk_document": "agent.ingest.chunking",
    "Document": "agent.ingest.loaders",
    "FileRejected": "agent.ingest.loaders",
    "load": "agent.ingest.loaders",
    "IngestReport": "agent.ingest.pipeline",
    "ingest_paths": "agent.ingest.pipeline",
}

__all__ = ["Document", "FileRejected", "IngestReport", "chunk_document", "ingest_paths", "load"]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(_NAMES[name]), name)
