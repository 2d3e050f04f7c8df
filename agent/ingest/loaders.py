"""Read one Markdown, text, HTML or PDF file into a cleaned Document, or fail with a one-line reason."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from agent.core.errors import IngestError
from agent.ingest.cleaning import clean_text, clean_web_text
from agent.ingest.decoding import decode_text

Kind = Literal["markdown", "text", "html", "pdf"]
KINDS: dict[str, Kind] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
MAX_PDF_PAGES = 2000
MAX_EXTRACTED_CHARS = 5_000_000  # about 1,000 pages of dense prose; more smells like a decompression bomb
SHORT_TITLE_WORDS = 16

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class FileRejected(IngestError):
    """A file that cannot be ingested, keeping the path and the reason apart for reports."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class Document(BaseModel):
    """A source file's cleaned text and the metadata chunks inherit."""

    text: str
    title: str
    source: str  # the file's name; the index keys sources by it
    link: str = ""
    author: str = ""
    tags: list[str] = Field(default_factory=list)
    kind: Kind = "text"
    source_title: str = ""  # front matter: the title of the original a note paraphrases


def kind_of(path: Path) -> Kind | None:
    """The loader kind for a file name, or None when the extension is not supported."""
    return KINDS.get(path.suffix.lower())


def unsupported_reason(path: Path) -> str:
    return f"unsupported file type {path.suffix or '(no extension)'!r}; supported: {', '.join(KINDS)}"


def load(
    path: Path, max_bytes: int, *, max_pages: int = MAX_PDF_PAGES, max_chars: int = MAX_EXTRACTED_CHARS
) -> Document:
    """Read and clean one file; FileRejected if it is empty, binary, undecodable, too big or missing."""
    path = Path(path)
    if not path.exists():
        raise FileRejected(path, "no such file")
    if not path.is_file():
        raise FileRejected(path, "not a regular file")
    if kind_of(path) is None:
        raise FileRejected(path, unsupported_reason(path))
    data = read_limited(path, max_bytes)
    return load_bytes(path, data, max_bytes=max_bytes, max_pages=max_pages, max_chars=max_chars)


def _too_large(path: Path, size: int, max_bytes: int) -> FileRejected:
    return FileRejected(path, f"too large ({size / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.1f} MB)")


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing files over the limit before (and while) reading them."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(path, size, max_bytes)
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # a file growing while we read it still cannot pass the limit
    except OSError as exc:
        raise FileRejected(path, f"cannot read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    return data


def load_bytes(
    path: Path,
    data: bytes,
    *,
    max_bytes: int,
    max_pages: int = MAX_PDF_PAGES,
    max_chars: int = MAX_EXTRACTED_CHARS,
) -> Document:
    """Parse bytes already read from `path` (the pipeline reads each file once to hash it)."""
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise FileRejected(path, unsupported_reason(path))
    if len(data) > max_bytes:
        raise _too_large(path, len(data), max_bytes)
    if not data.strip():
        raise FileRejected(path, "empty file")
    meta: dict = {}
    html_title = pdf_title = ""
    try:
        if kind == "pdf":
            text, pdf_title = _pdf_text(data, max_pages, max_chars)
            text = clean_text(text)
        else:
            raw = decode_text(data)
            if kind == "markdown":
                meta, raw = _split_front_matter(raw)
                text = clean_text(raw)
            elif kind == "html":
                text, html_title = _html_text(raw)
            else:
                text = clean_web_text(raw)
    except IngestError as exc:  # the helpers give only the reason; name the file here
        raise FileRejected(path, str(exc)) from None
    if len(text) > max_chars:
        raise FileRejected(path, f"too much text ({len(text):,} characters; the limit is {max_chars:,})")
    if not text.strip():
        raise FileRejected(path, "no text left after cleaning")
    title = _title(meta, text, html_title or pdf_title, path)
    return Document(
        text=text,
        title=title,
        source=path.name,
        kind=kind,
        link=_meta_str(meta, "link") or _meta_str(meta, "url"),
        author=_meta_str(meta, "author"),
        tags=_tags(meta.get("tags")),
        source_title=_meta_str(meta, "source_title"),
    )


def _split_front_matter(raw: str) -> tuple[dict, str]:
    """YAML front matter between '---' lines, parsed and removed from the text."""
    stripped = raw.lstrip("\ufeff")
    match = _FRONT_MATTER.match(stripped.replace("\r\n", "\n"))
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        raise IngestError(f"front matter is not valid YAML{where}") from None
    if not isinstance(meta, dict):
        return {}, raw  # '---' rules around prose, not front matter
    return meta, stripped.replace("\r\n", "\n")[match.end() :]


def _meta_str(meta: dict, key: str) -> str:
    value = meta.get(key)
    return str(value).strip() if value is not None else ""


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(t).strip() for t in items if str(t).strip()]


def _html_text(raw: str) -> tuple[str, str]:
    """The article of a web page as Markdown (trafilatura drops nav, banners, comments), and its <title>."""
    import trafilatura

    match = _HTML_TITLE.search(raw)
    html_title = " ".join(html_lib.unescape(match.group(1)).split()) if match else ""
    extracted = trafilatura.extract(
        raw, output_format="markdown", include_comments=False, include_tables=True
    )
    if not extracted:  # very short pages: fall back to all visible text, still chrome-filtered
        extracted = trafilatura.html2txt(raw) or ""
    return clean_web_text(extracted), html_title


def _pdf_text(data: bytes, max_pages: int, max_chars: int) -> tuple[str, str]:
    """Page texts joined by blank lines, refusing encrypted files and output past the page and size caps."""
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestError("encrypted PDF; save an unprotected copy and ingest that")
        n_pages = len(reader.pages)
        if n_pages > max_pages:
            raise IngestError(f"PDF has {n_pages:,} pages; the limit is {max_pages:,}")
        pages: list[str] = []
        total = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            total += len(text)
            if total > max_chars:
                raise IngestError(f"PDF text exceeds {max_chars:,} characters (a decompression bomb?)")
            pages.append(text)
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = " ".join(str(reader.metadata.title).split())
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001  pypdf raises many types on malformed files; all mean "cannot read it"
        detail = (str(exc).splitlines() or [""])[0][:120]
        raise IngestError(f"not a readable PDF ({type(exc).__name__}: {detail})") from None
    return "\n\n".join(p.strip() for p in pages if p.strip()), title


def _title(meta: dict, text: str, doc_title: str, path: Path) -> str:
    """Front matter title, else first Markdown H1, else HTML/PDF title, else a short first line, else stem."""
    for key in ("title", "source_title"):
        if _meta_str(meta, key):
            return _meta_str(meta, key)
    match = _H1.search(text)
    if match and plain_heading(match.group(1)):
        return plain_heading(match.group(1))
    if doc_title:
        return doc_title
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if first and len(first.split()) <= SHORT_TITLE_WORDS and len(first) <= 120 and first[-1] not in ".:;,":
        return plain_heading(first.lstrip("#").strip())
    return path.stem


def plain_heading(text: str) -> str:
    """Heading text without Markdown emphasis, links or trailing hashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|`)(.+?)\1", r"\2", text)
    return " ".join(text.strip().rstrip("#").split())
