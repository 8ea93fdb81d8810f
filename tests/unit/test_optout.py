"""Opt-out keywords: tolerant of case, accents and punctuation, strict about short words."""

from __future__ import annotations

import pytest

from core.optout import is_opt_out, normalize, opt_out_keyword


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Stop!", "stop"),
        ("  stop.  ", "stop"),
        ("stop per favore", "stop"),
        ("Basta", "basta"),
        ("BASTA!!!", "basta"),
        ("basta grazie", "basta"),
        ("Cancellami", "cancellami"),
        ("cancellami dalla lista per favore", "cancellami"),
        ("Disiscrivimi.", "disiscrivimi"),
        ("Non scrivermi più", "non scrivermi più"),
        ("non scrivermi piu", "non scrivermi più"),
        ("NON SCRIVERMI PIÙ!!!", "non scrivermi più"),
        ("non   scrivermi   più", "non scrivermi più"),
        ("Per favore, non scrivermi più.", "non scrivermi più"),
        ("non scrivetemi più", "non scrivermi più"),
    ],
)
def test_opt_out_variants_are_recognised(text: str, keyword: str) -> None:
    """Each spelling maps to its canonical keyword."""
    assert opt_out_keyword(text) == keyword


@pytest.mark.parametrize(
    "text",
    [
        "basta così",
        "basta così grazie",
        "stop al glutine: avete pasta senza glutine?",
        "vorrei 2 confezioni di crocchette",
        "ciao",
        "",
        "   ",
        None,
    ],
)
def test_ordinary_messages_are_not_opt_outs(text: str | None) -> None:
    """Short words inside a sentence (``basta così``) do not unsubscribe anyone."""
    assert not is_opt_out(text)


def test_normalize_folds_case_accents_and_punctuation() -> None:
    """``Più!`` and ``piu`` read the same."""
    assert normalize("  Non SCRIVERMI, più! ") == "non scrivermi piu"
