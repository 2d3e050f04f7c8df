"""Web-chrome removal keeps article bodies and drops furniture; ordinary prose passes through untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.ingest.cleaning import clean_text, clean_web_text, collapse_repeated_lines, normalize_whitespace
from agent.ingest.loaders import load

FIXTURES = Path(__file__).parent / "fixtures"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _seed(seeds_dir: Path, prefix: str) -> Path:
    return next(seeds_dir.glob(f"{prefix}_*.txt"))


def _dropped(raw: str) -> list[str]:
    kept = set(_lines(clean_web_text(raw)))
    return [line for line in _lines(clean_text(raw)) if line not in kept]


# Short openings (all under ten words) of the furniture lines scraped into the seeds.
CRUFT_003 = (
    "Get Insights",
    "Subscribe to insights",
    "By using this website",
    "Cookie Settings",
    "We use cookies",
    "These cookies",
)
CRUFT_004 = (
    "Posted",
    "Guest",
    "Jump to content",
    "× You cannot paste images",
    "View the full article",
    "rssImage-",
    "You can post now",
    "Recommended Posts",
    "Only 75 emoji",
    "Join the conversation",
    "× Your previous content",
    "Reply to this topic",
    "× Pasted as rich text",
    "×",
    "• Create New",
    "× Your link has been",
)  # shuffled, so the tuple never reads as the page's own word order


@pytest.mark.parametrize("prefix, cruft", [("003", CRUFT_003), ("004", CRUFT_004)])
def test_seed_chrome_is_dropped_and_nothing_else(seeds_dir, prefix, cruft):
    raw = _seed(seeds_dir, prefix).read_text(encoding="utf-8")
    dropped = _dropped(raw)
    for line in dropped:  # every dropped line is known furniture ...
        assert line.startswith(cruft), f"over-deleted: {line[:60]!r}"
    for opening in cruft:  # ... and every piece of known furniture is dropped
        assert any(line.startswith(opening) for line in dropped), f"kept chrome: {opening!r}"


@pytest.mark.parametrize("prefix", ["003", "004"])
def test_seed_body_sentences_survive(seeds_dir, prefix):
    raw = _seed(seeds_dir, prefix).read_text(encoding="utf-8")
    cleaned = clean_web_text(raw)
    body = [
        line
        for line in _lines(raw)
        if len(line.split()) >= 15
        and "cookie" not in line.lower()
        and not line.lower().startswith("you can post")
    ]
    assert len(body) >= 8
    for line in body:
        words = line.split()
        for start in (0, len(words) // 2, len(words) - 6):  # short phrases from the start, middle and end
            assert " ".join(words[start : start + 6]) in " ".join(cleaned.split())


def test_short_section_headings_in_a_scraped_page_are_kept(seeds_dir):
    raw = _seed(seeds_dir, "004").read_text(encoding="utf-8")
    labels = [line for line in _lines(raw)[8:-15] if len(line.split()) <= 4 and not line.endswith(".")]
    assert len(labels) >= 3
    cleaned = _lines(clean_web_text(raw))
    assert all(label in cleaned for label in labels)


def test_seed_with_footer_buttons_loses_them(seeds_dir):
    raw = _seed(seeds_dir, "002").read_text(encoding="utf-8")
    tail = _lines(clean_web_text(raw))[-1]
    assert "Share" not in tail and "Pinterest" not in tail and len(tail.split()) > 10


def test_repeated_title_lines_collapse_to_one(seeds_dir):
    raw = _seed(seeds_dir, "000").read_text(encoding="utf-8")
    title = _lines(raw)[0]
    assert _lines(raw)[:3] == [title] * 3
    cleaned = clean_web_text(raw)
    assert _lines(cleaned).count(title) == 1
    assert cleaned.startswith(title + "\n\n")


def test_ordinary_prose_passes_through_unchanged():
    raw = (FIXTURES / "prose.txt").read_text(encoding="utf-8")
    assert clean_web_text(raw) == normalize_whitespace(raw)
    assert "Sign up for the hard conversations" in clean_web_text(raw)


def test_navigation_words_go_only_next_to_other_chrome():
    page = "Home\nMenu\nJump to content\n\nA title\n\nThe body says something useful about meetings."
    assert _lines(clean_web_text(page)) == ["A title", "The body says something useful about meetings."]
    prose = "Home\n\nWe finally felt at home in the new team after a month of shared lunches."
    assert clean_web_text(prose) == prose


def test_image_names_share_rows_and_counters_are_dropped():
    text = (
        "Body paragraph one, long enough to be prose rather than a label.\n\nIMG_2041.JPG\n\n"
        "Share on LinkedIn\n\n12 Comments\n\nLog in to reply\n\nSecond paragraph of the real article here."
    )
    assert _lines(clean_web_text(text)) == [
        "Body paragraph one, long enough to be prose rather than a label.",
        "Second paragraph of the real article here.",
    ]


def test_whitespace_normalisation():
    raw = "\ufeffTitle  \r\n\r\n\r\n\r\nA\u00a0line   with\tgaps \u200b\n    indented code\n\n\n"
    assert normalize_whitespace(raw) == "Title\n\nA line with gaps\n    indented code"


def test_collapse_keeps_distinct_lines_and_one_of_each_repeat():
    assert collapse_repeated_lines("A\n\nA\nB\nA") == "A\nB\nA"


def test_html_page_keeps_article_and_drops_furniture():
    doc = load(FIXTURES / "page.html", 10**6)
    assert doc.kind == "html" and doc.title == "Ask better questions"
    assert "opens a door that the other person walks through" in doc.text
    assert "## Start with what they want" in doc.text
    assert "where the learning sits" in doc.text
    for chrome in (
        "Home",
        "About",
        "cookies",
        "Accept all",
        "Share on",
        "newsletter",
        "Subscribe",
        "Leave a reply",
        "Post comment",
        "Copyright",
        "Log in",
    ):
        assert chrome not in doc.text, chrome
