"""Normalisation: folding, tokens and stems."""

from __future__ import annotations

from core.nlu.normalize import QUESTION, SEP, fold, stem, tokenize


def test_fold_lowercases_and_strips_accents() -> None:
    """Accented capitals fold to plain lower-case letters."""
    assert fold("Caffè PERCHÉ Città") == "caffe perche citta"


def test_apostrophes_split_words() -> None:
    """Elided articles become their own token."""
    assert tokenize("mandatemi un'orchidea") == ("mandatemi", "un", "orchidea")


def test_separators_collapse_to_one_token() -> None:
    """Commas, colons and newlines all become a single separator."""
    assert tokenize("pane, : latte") == ("pane", SEP, "latte")


def test_question_mark_is_kept() -> None:
    """The question mark survives as its own token."""
    assert tokenize("Avete crocchette?")[-1] == QUESTION


def test_decimal_comma_stays_one_token() -> None:
    """A decimal comma inside a number is not a separator."""
    assert tokenize("1,5 kg") == ("1,5", "kg")


def test_multiplied_sizes_stay_one_token() -> None:
    """``4x85`` is one token, and so is a code such as ``ffp2``."""
    assert tokenize("4x85 g ffp2") == ("4x85", "g", "ffp2")


def test_emoji_only_text_has_no_tokens() -> None:
    """Symbols that are neither words nor separators vanish."""
    assert tokenize("👍") == ()


def test_singular_and_plural_share_a_stem() -> None:
    """Italian -a/-e and -o/-i plurals stem alike."""
    assert stem("mozzarella") == stem("mozzarelle")
    assert stem("cane") == stem("cani")
