"""Italian quantities and sizes."""

from __future__ import annotations

import pytest

from core.nlu.normalize import tokenize
from core.nlu.numbers import Piece, read_pieces


def _first(text: str) -> Piece:
    return read_pieces(tokenize(text))[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("un pane", 1),
        ("una mozzarella", 1),
        ("due latte", 2),
        ("dieci uova", 10),
        ("quindici rose", 15),
        ("venti cerotti", 20),
        ("una dozzina di uova", 12),
        ("dozzina di uova", 12),
        ("mezza dozzina di uova", 6),
        ("un paio di mozzarelle", 2),
        ("paio di mozzarelle", 2),
        ("3 pacchi", 3),
    ],
)
def test_number_words_and_digits_are_quantities(text: str, value: int) -> None:
    """Digits, number words and group words read as quantities."""
    piece = _first(text)
    assert (piece.kind, piece.value) == ("quantity", value)


@pytest.mark.parametrize("text", ["2x olio", "2 x olio", "x2 olio"])
def test_x_markers_are_explicit_quantities(text: str) -> None:
    """``2x``, ``2 x`` and ``x2`` all mean two."""
    piece = _first(text)
    assert (piece.kind, piece.value, piece.marked) == ("quantity", 2, True)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("3 kg", "3kg"),
        ("1,5 kg", "1.5kg"),
        ("10 L", "10l"),
        ("500 g", "500g"),
        ("75 ml", "75ml"),
        ("500g", "500g"),
        ("4x85 g", "85g"),
        ("6 x 1,5 L", "1.5l"),
        ("due chili", "2kg"),
    ],
)
def test_numbers_with_units_are_sizes(text: str, size: str) -> None:
    """A number followed by a unit is a size, never a quantity."""
    piece = _first(text)
    assert (piece.kind, piece.text) == ("size", size)


def test_multipack_size_remembers_its_count() -> None:
    """``6 x 1,5 L`` is a size of six bottles."""
    assert _first("6 x 1,5 L").value == 6


def test_size_consumes_its_unit() -> None:
    """After ``3 kg`` the next piece is the following word."""
    assert [p.kind for p in read_pieces(tokenize("3 kg crocchette"))] == ["size", "word"]
