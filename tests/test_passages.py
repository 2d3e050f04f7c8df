"""A cited passage shown inside its neighbouring chunks, and text made safe for Markdown and HTML."""

from __future__ import annotations

from agent.core.types import Chunk, Citation
from agent.library.passages import PassageView, escape_markdown, highlighted_html, passage_view, safe_link

DOC = "First part about goals. Second part about trust between peers. Third part about the long game."


def chunk(n: int, start: int, end: int) -> Chunk:
    return Chunk(id=f"d.md#{n}", source="d.md", title="D", text=DOC[start:end], chunk=n, start=start, end=end)


# Overlapping chunks, as the chunker makes them.
CHUNKS = [chunk(0, 0, 30), chunk(1, 24, 62), chunk(2, 55, len(DOC))]


def cite(n: int) -> Citation:
    c = CHUNKS[n]
    return Citation(source="d.md", title="D", chunk=n, text=c.text, start=c.start, end=c.end)


def test_passage_sits_between_its_neighbours_text():
    view = passage_view(cite(1), CHUNKS)
    assert view.passage == DOC[24:62]
    assert view.before + view.passage + view.after == DOC  # overlaps stitched back without repeats


def test_first_chunk_has_no_text_before_it():
    view = passage_view(cite(0), CHUNKS)
    assert view.before == "" and view.passage == DOC[:30] and view.after.startswith(DOC[30:40])


def test_stale_offsets_fall_back_to_finding_the_text():
    moved = cite(1).model_copy(update={"start": 0, "end": 5})
    view = passage_view(moved, CHUNKS)
    assert view.passage == DOC[24:62] and view.before == DOC[:24]


def test_unknown_source_shows_the_passage_alone():
    view = passage_view(cite(1), [])
    assert view == PassageView(before="", passage=DOC[24:62], after="")


def test_long_context_is_trimmed_at_word_boundaries():
    long_doc = ("word " * 300) + "TARGET" + (" tail" * 300)
    chunks = [Chunk(id="x", source="x", title="x", text=long_doc, chunk=0, start=0, end=len(long_doc))]
    start = long_doc.index("TARGET")
    view = passage_view(
        Citation(source="x", title="x", chunk=0, text="TARGET", start=start, end=start + 6),
        chunks,
        context_chars=50,
    )
    assert view.passage == "TARGET"
    assert view.before.startswith("… word") and len(view.before) <= 53
    assert view.after.endswith(" …") and len(view.after) <= 53


def test_highlight_escapes_everything_but_our_mark():
    out = highlighted_html(
        PassageView(before="<b>x</b> & ", passage='<img src=x onerror="alert(1)">', after="<script>")
    )
    assert "<b>" not in out and "<img" not in out and "<script" not in out
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in out
    assert out.count("<mark>") == 1 and out.count("</mark>") == 1


def test_escape_markdown_neutralises_links_images_and_html():
    text = "![t](http://evil/x.png) [click](javascript:alert(1)) <b>bold</b> **strong** # h"
    out = escape_markdown(text)
    assert "![" not in out and "](" not in out and "<b>" not in out and "**" not in out
    assert out.replace("\\", "") == text  # only backslashes were added
    assert escape_markdown("Call:\n- 988\n\nthen") == "Call\\:  \n\\- 988  \n  \nthen"  # lines kept


def test_safe_link_allows_only_plain_http_urls():
    assert safe_link("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://x.org/a) [y](z", "", "ftp://x"):
        assert safe_link(bad) == ""
