"""Redaction of names, e-mail addresses and phone numbers in session briefs."""

from __future__ import annotations

import pytest

from agent.brief.redact import EMAIL_MARK, NAME_MARK, PHONE_MARK, redact, redact_emails, redact_phones


@pytest.mark.parametrize(
    "text",
    [
        "write to priya.shah@example.com today",
        "write to first_last+tag@mail.example.co.uk today",
        "write to X@Y.IO today",
    ],
)
def test_emails_are_replaced(text):
    out = redact_emails(text)
    assert "@" not in out and out.startswith("write to ") and EMAIL_MARK in out


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+1-202-555-0173",
        "(555) 123-4567",
        "555.123.4567",
        "+49 30 1234567",
        "0044 20 7946 0958",
        "+33 1 23 45 67 89",
        "020 7946 0958",
        "+91 98765 43210",
    ],
)
def test_international_phone_formats_are_replaced(phone):
    out = redact_phones(f"call me on {phone} please")
    assert out == f"call me on {PHONE_MARK} please"


@pytest.mark.parametrize(
    "text",
    [
        "the review is on 2024-05-01",
        "we met on 12/05/2024",
        "back in 2019",
        "3 people, 12 tasks",
        "revenue grew 45% to 1200",
    ],
)
def test_dates_years_and_small_numbers_are_kept(text):
    assert redact_phones(text) == text


def test_names_mid_sentence_are_replaced_but_common_words_kept():
    out = redact("Yesterday I told Priya Shah that the CEO wants it by Monday. What now?")
    assert "Priya" not in out and "Shah" not in out
    assert out.count(NAME_MARK) == 1  # first and last name collapse into one marker
    for kept in ("Yesterday", "I told", "CEO", "Monday", "What now?"):
        assert kept in out


def test_sentence_initial_name_is_replaced_but_sentence_initial_common_word_is_not():
    out = redact("Marco stayed quiet. Maybe he felt left out.")
    assert out == f"{NAME_MARK} stayed quiet. Maybe he felt left out."


def test_known_peer_names_are_replaced_even_in_lower_case():
    out = redact("my peer dave, head of sales, keeps skipping our syncs", known_names=["Dave Okafor"])
    assert "dave" not in out.lower() and NAME_MARK in out
    assert "head of sales" in out


def test_everything_at_once_leaves_no_personal_detail():
    text = "Ask Ana (ana@acme.io, +351 912 345 678) whether Tomás agrees."
    out = redact(text, known_names=["Ana"])
    for secret in ("Ana", "ana@", "912", "Tomás"):
        assert secret not in out
    assert EMAIL_MARK in out and PHONE_MARK in out


def test_text_without_personal_details_is_unchanged():
    text = "I want my team to own the plan. How do I start?"
    assert redact(text) == text


def test_sentence_starts_that_grammar_marks_as_words_stay_and_names_go():
    text = ("Delegating the review feels impossible. Owning my half is hard. Stepping back helps. "
            "Communication broke down. Priya keeps blocking me. Sterling said no. Ask Aisha the question.")
    out = redact(text)
    for kept in ("Delegating the review", "Owning my half", "Stepping back", "Communication broke down"):
        assert kept in out
    for name in ("Priya", "Sterling", "Aisha"):
        assert name not in out
    assert out.count(NAME_MARK) == 3
