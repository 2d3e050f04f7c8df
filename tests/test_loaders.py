"""Loaders: front matter, titles, encodings, PDFs, and one-line errors for every kind of bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.core.errors import IngestError
from agent.ingest.loaders import Document, FileRejected, load

FIXTURES = Path(__file__).parent / "fixtures"
MB = 2**20
PROSE = "Coaching starts with a question about what matters most to the person in front of you."


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _pdf(tmp_path: Path, pages: list[str], *, title: str = "", password: str = "") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password="owner-secret", user_password=password)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return _write(tmp_path, "doc.pdf", bytes(pdf.output()))


def _rejected(path: Path, **kw) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        load(path, kw.pop("max_bytes", MB), **kw)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path) + ": ")
    assert isinstance(info.value, IngestError)
    return info.value


def test_markdown_front_matter_is_metadata_not_text():
    doc = load(FIXTURES / "note.md", MB)
    assert isinstance(doc, Document) and doc.kind == "markdown" and doc.source == "note.md"
    assert (doc.title, doc.author, doc.link) == (
        "Feedback that lands",
        "Test Author",
        "https://example.org/feedback",
    )
    assert doc.tags == ["feedback", "peers"] and doc.source_title == "A made-up article about feedback"
    assert (
        doc.text.startswith("# Feedback that lands\n\n")
        and "source_title" not in doc.text
        and "---" not in doc.text
    )


def test_front_matter_tags_may_be_a_comma_string_and_url_is_a_link(tmp_path):
    doc = load(_write(tmp_path, "n.markdown", "---\ntags: a, b\nurl: https://x.test/\n---\nBody text.\n"), MB)
    assert doc.tags == ["a", "b"] and doc.link == "https://x.test/" and doc.text == "Body text."


def test_invalid_front_matter_is_an_error_naming_the_line(tmp_path):
    err = _rejected(_write(tmp_path, "bad.md", "---\ntitle: [unclosed\n---\nBody.\n"))
    assert "front matter" in err.reason


def test_rules_around_prose_are_not_front_matter(tmp_path):
    doc = load(_write(tmp_path, "rule.md", "---\nJust a sentence between rules.\n---\n\nMore.\n"), MB)
    assert "Just a sentence between rules." in doc.text


@pytest.mark.parametrize(
    "name, content, title",
    [
        (
            "h1.md",
            "Intro line that is long enough to not be a title, truly it is.\n\n# The Heading\n\nBody.",
            "The Heading",
        ),
        ("bold.txt", "# **Bold** heading\n\nBody.", "Bold heading"),
        (
            "page.html",
            "<html><head><title>Tab &amp; title</title></head><body><p>" + PROSE * 3 + "</p></body></html>",
            "Tab & title",
        ),
        ("short.txt", "A short first line\n\n" + PROSE, "A short first line"),
        ("long-first-line.txt", PROSE + "\n\nAnother paragraph.", "long-first-line"),
    ],
)
def test_title_fallbacks(tmp_path, name, content, title):
    assert load(_write(tmp_path, name, content), MB).title == title


def test_utf8_with_bom_and_utf16_with_bom_decode(tmp_path):
    for i, data in enumerate(
        [
            b"\xef\xbb\xbf" + PROSE.encode(),
            ("\ufeff" + PROSE).encode("utf-16-le"),
            ("\ufeff" + PROSE).encode("utf-16-be"),
        ]
    ):
        assert load(_write(tmp_path, f"e{i}.txt", data), MB).text == PROSE


def test_cp1252_prose_is_accepted(tmp_path):
    text = "Caf\u00e9 talk \u2013 the team\u2019s na\u00efve first draft of a plan."
    assert load(_write(tmp_path, "ansi.txt", text.encode("cp1252")), MB).text == text


def test_random_bytes_are_not_text(tmp_path):
    data = bytes(range(128, 256)) * 20  # invalid UTF-8 and almost no ASCII
    assert "undecodable" in _rejected(_write(tmp_path, "noise.txt", data)).reason


@pytest.mark.parametrize("data", [b"PK\x03\x04\x00\x00binary zip body", os.urandom(64) + b"\x00"])
def test_nul_bytes_mean_binary(tmp_path, data):
    assert "binary" in _rejected(_write(tmp_path, "blob.md", data)).reason


def test_control_characters_mean_binary(tmp_path):
    assert (
        "binary" in _rejected(_write(tmp_path, "ctl.txt", b"ok\x01\x02\x03\x04\x05\x06\x07\x08" * 10)).reason
    )


@pytest.mark.parametrize("content", [b"", b"   \n\n\t  "])
def test_empty_files(tmp_path, content):
    assert _rejected(_write(tmp_path, "empty.md", content)).reason == "empty file"


def test_only_chrome_leaves_no_text(tmp_path):
    assert (
        "no text"
        in _rejected(_write(tmp_path, "chrome.txt", "Jump to content\n\nShare this\n\nLog in")).reason
    )


def test_too_large_missing_unsupported_and_folder(tmp_path):
    big = _write(tmp_path, "big.txt", PROSE * 100)
    assert "too large" in _rejected(big, max_bytes=1000).reason
    assert _rejected(tmp_path / "nope.md").reason == "no such file"
    assert "unsupported file type '.docx'" in _rejected(_write(tmp_path, "x.docx", PROSE)).reason
    assert "not a regular file" in _rejected(tmp_path).reason


def test_pdf_pages_are_joined_and_titled(tmp_path):
    doc = load(
        _pdf(tmp_path, ["First page. " + PROSE, "Second page. " + PROSE], title="Quiet Leadership"), MB
    )
    assert doc.kind == "pdf" and doc.title == "Quiet Leadership"
    assert doc.text.index("First page.") < doc.text.index("Second page.") and "\n\n" in doc.text


def test_pdf_page_and_text_caps_guard_against_bombs(tmp_path):
    path = _pdf(tmp_path, [f"Page {n}. {PROSE}" for n in range(5)])
    assert "5 pages" in _rejected(path, max_pages=3).reason
    assert "exceeds 200 characters" in _rejected(path, max_chars=200).reason
    assert load(path, MB, max_pages=5).text.count("Coaching starts") == 5


def test_encrypted_pdf_is_a_clear_error(tmp_path):
    assert "encrypted PDF" in _rejected(_pdf(tmp_path, [PROSE], password="pw")).reason


def test_broken_pdf_is_a_clear_error(tmp_path):
    assert (
        "not a readable PDF"
        in _rejected(_write(tmp_path, "broken.pdf", b"%PDF-1.7\nnot really a pdf")).reason
    )
