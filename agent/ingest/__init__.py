"""Turn Markdown, text, HTML and PDF files into cleaned, chunked sources in the index."""

from agent.ingest.chunking import chunk_document
from agent.ingest.loaders import Document, FileRejected, load
from agent.ingest.pipeline import IngestReport, ingest_paths

__all__ = ["Document", "FileRejected", "IngestReport", "chunk_document", "ingest_paths", "load"]
