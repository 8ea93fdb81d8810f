"""The WhatsApp normalisation table: shorthand, glued words and digits, letters, emoji."""

from __future__ import annotations

import pytest

from core.nlu.normalize import SEP, squeeze, tokenize
from core.nlu.shorthand import GLUED, KEEP_FINAL_DOUBLE, SHORTHAND

TABLE = [
    ("nn lo voglio", ("non", "lo", "voglio")),
    ("xké no?", ("perche", "no", "?")),
    ("xke", ("perche",)),
    ("qlc bottiglia", ("qualche", "bottiglia")),
    ("cmq va bene", ("comunque", "va", "bene")),
    ("shampoo x cani", ("shampoo", "per", "cani")),
    ("3latte", ("3", "latte")),
    ("2termometri e 3vitamina", ("2", "termometri", "e", "3", "vitamina")),
    ("2x acqua", ("2x", "acqua")),
    ("2 x acqua", ("2", "x", "acqua")),
    ("6 x 1,5 L", ("6", "x", "1,5", "l")),
    ("unpaio di pani", ("un", "paio", "di", "pani")),
    ("xfavore", ("per", "favore")),
    ("graziee", ("grazie",)),
    ("vorreiii tantiiissimi", ("vorrei", "tantissimi")),
    ("mozzzarella", ("mozzarella",)),
    ("orchidee", ("orchidee",)),
    ("perché è già così", ("perche", "e", "gia", "cosi")),
    ("dov'è", ("dov", "e")),
    ("CIAO MI PORTI IL PANE", ("ciao", "mi", "porti", "il", "pane")),
    ("pane 🍞 e latte 🥛", ("pane", "e", "latte")),
    ("ahahahah 😂", ("ahah", "ahah")),
    ("2-3 pacchi", ("2", "o", "3", "pacchi")),
    ("500g 3kg 4x85 g", ("500g", "3kg", "4x85", "g")),
    ("grz mille, tvb", ("grazie", "mille", SEP, "tvb")),
]


@pytest.mark.parametrize(("text", "tokens"), TABLE)
def test_whatsapp_spelling_reads_as_standard_italian(text: str, tokens: tuple[str, ...]) -> None:
    """Each row of the table: the message as written, the tokens the NLU reads."""
    assert tokenize(text) == tokens


@pytest.mark.parametrize(("short", "long"), sorted(SHORTHAND.items()))
def test_every_shorthand_entry_is_applied(short: str, long: tuple[str, ...]) -> None:
    """Each SMS abbreviation of the table expands when written alone."""
    assert tokenize(short) == long


@pytest.mark.parametrize(("glued", "words"), sorted(GLUED.items()))
def test_every_glued_entry_is_split(glued: str, words: tuple[str, ...]) -> None:
    """Each glued pair of the table is read as its two words."""
    assert tokenize(glued) == words


@pytest.mark.parametrize("word", sorted(KEEP_FINAL_DOUBLE))
def test_real_double_vowel_endings_survive_squeezing(word: str) -> None:
    """Words that end in a doubled vowel are not shortened."""
    assert squeeze(word) == word


def test_emoji_do_not_change_what_is_understood() -> None:
    """A message with and without its emoji reads the same (laughter aside)."""
    assert tokenize("2 mozzarelle 🍕🍕 x stasera 🙏") == tokenize("2 mozzarelle x stasera")


def test_units_glued_to_numbers_stay_sizes() -> None:
    """``500ml`` and ``10l`` are one token each: sizes, not a number and a word."""
    assert tokenize("500ml 10l 2cpr") == ("500ml", "10l", "2cpr")
