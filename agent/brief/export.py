"""Export a session brief (Markdown text) as a Markdown file or a PDF, unicode-safe."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_LATIN1_FIXES = {
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "–": "-",
    "—": "-",
    "…": "...",
    "→": "->",
    "•": "-",
    "\u00a0": " ",
}


def to_markdown_bytes(text: str) -> bytes:
    """The brief as UTF-8 Markdown, ending in one newline."""
    return (text.rstrip() + "\n").encode("utf-8")


def latin1(text: str) -> str:
    """Text the core PDF fonts can draw: typographic marks mapped, accents dropped, anything else as '?'."""
    for bad, good in _LATIN1_FIXES.items():
        text = text.replace(bad, good)
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(base or "?")
    return "".join(out)


def _fonts(font_dir: Path | None) -> tuple[Path, Path] | None:
    folder = font_dir or FONT_DIR
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    return (regular, bold) if regular.is_file() and bold.is_file() else None


def _plain(text: str) -> str:
    """Inline Markdown marks dropped, so the PDF shows words, not syntax."""
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)


def to_pdf_bytes(text: str, *, title: str = "Session brief", font_dir: Path | None = None) -> bytes:
    """A simple A4 PDF of the Markdown brief: bold headings, indented bullets, unicode drawn or sanitised."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(title)
    pdf.set_creator("socratic-coach")
    fonts = _fonts(font_dir)
    if fonts:
        pdf.add_font("Body", "", str(fonts[0]))
        pdf.add_font("Body", "B", str(fonts[1]))
        family, fix = "Body", (lambda s: s)
    else:
        family, fix = "Helvetica", latin1
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for raw in text.splitlines():
        line = fix(_plain(raw.rstrip()))
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        pdf.set_x(pdf.l_margin)
        if heading:
            size = {1: 16, 2: 13}.get(len(heading.group(1)), 11)
            pdf.set_font(family, "B", size)
            pdf.ln(2)
            pdf.multi_cell(width, size * 0.5, heading.group(2))
        elif re.match(r"^\s*[-*]\s+", line):
            pdf.set_font(family, "", 11)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(width - 4, 6, fix("• ") + re.sub(r"^\s*[-*]\s+", "", line))
        elif line.strip():
            pdf.set_font(family, "", 11)
            pdf.multi_cell(width, 6, line)
        else:
            pdf.ln(3)
    return bytes(pdf.output())
