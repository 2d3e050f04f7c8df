"""The session-prep brief: from a real SQLite store, redacted on request, exported as Markdown and PDF."""

from __future__ import annotations

import io

import pytest

from agent.brief.brief import build_brief, client_quotes, next_questions, phase_reached, to_markdown
from agent.brief.export import latin1, to_markdown_bytes, to_pdf_bytes
from agent.brief.redact import NAME_MARK
from agent.core.settings import load_settings
from agent.store.memory import open_store
from tests.samples import SECRETS, peer_session


@pytest.fixture
def store(tmp_path):
    s = open_store(load_settings(home=tmp_path / "h"))
    yield s
    s.close()


@pytest.fixture
def session(store):
    return peer_session(store)


def test_brief_has_every_section_from_the_stored_session(store, session):
    brief = build_brief(store, session)
    assert brief.phase == "will" and brief.n_turns == 2
    assert any("stuck" in q for q in brief.quotes)
    assert brief.commitments == ["call Priya about the launch, by Friday [open]"]
    assert brief.sources == [("Mapping your peers", "https://example.org/peers")]
    assert brief.questions and brief.questions[0] == "How did it go with: call Priya about the launch?"
    assert "What will you do first?" not in brief.questions  # already asked in the session
    assert brief.themes  # the situation label or repeated words
    text = to_markdown(brief)
    for heading in (
        "## Themes",
        "## The client's own words",
        "## Phase reached",
        "## Commitments",
        "## Questions for next time",
        "## Sources cited",
    ):
        assert heading in text
    assert "Priya" in text and "priya@acme.io" in text


def test_redacted_brief_has_no_names_emails_or_phones(store, session):
    text = to_markdown(build_brief(store, session, redact_names=True))
    for secret in SECRETS:
        assert secret not in text
    assert NAME_MARK in text
    assert "## Sources cited" in text and "Mapping your peers" in text  # our headings and source titles stay


def test_phase_reached_is_the_furthest_phase():
    assert phase_reached(["goal", "options", "reality"]) == "options"
    assert phase_reached([]) == "goal"
    assert phase_reached(["will", "closed", "goal"]) == "closed"


def test_client_quotes_prefer_short_first_person_feelings():
    said = [
        "The quarterly planning cycle starts next month. I worry my team will not follow me.",
        "Ok.",
        "word " * 40,
    ]
    assert client_quotes(said, limit=1) == ["I worry my team will not follow me."]
    quotes = client_quotes(said)
    assert quotes == [
        "The quarterly planning cycle starts next month.",
        "I worry my team will not follow me.",
    ]


def test_next_questions_skip_asked_ones_and_fit_the_phase():
    from agent.coach.questions import load_bank, normalise

    bank = load_bank()
    first = next(q for q in bank.for_phase("delegation", "options") if "{" not in q)
    picked = next_questions(["delegation"], "options", asked=[first])
    assert picked and normalise(first) not in {normalise(q) for q in picked}
    assert set(picked) & set(bank.for_phase("delegation", "options") + bank.for_phase("delegation", "will"))


def test_markdown_export_is_utf8_with_one_trailing_newline():
    data = to_markdown_bytes("# Brief\n\n- “Café” → next\n\n\n")
    assert data.decode("utf-8") == "# Brief\n\n- “Café” → next\n"


def test_pdf_export_keeps_unicode_text(store, session):
    from pypdf import PdfReader

    text = to_markdown(build_brief(store, session)) + "\n- Zoë’s “naïve” café → résumé\n"
    pdf = to_pdf_bytes(text)
    assert pdf.startswith(b"%PDF")
    extracted = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Zoë" in extracted and "café" in extracted and "Questions for next time" in extracted


def test_pdf_export_without_a_unicode_font_sanitises_to_latin1(tmp_path):
    from pypdf import PdfReader

    pdf = to_pdf_bytes("# Brief\n- “quoted” → next 日本", font_dir=tmp_path)
    extracted = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert '"quoted" -> next' in extracted
    assert latin1("Zoë “x” — 😀") == 'Zoë "x" - ?'
