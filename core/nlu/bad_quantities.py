"""Quantities no order may ask for: zero, a negative number, thousands (``10.000``). Pure."""

from __future__ import annotations

import re

from core.nlu import edit_words as w
from core.nlu.answers import plain_tokens
from core.nlu.cart import split_items
from core.nlu.numbers import read_pieces

_NEGATIVE = re.compile(r"(?:^|[\s,(])-\s?\d")
_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.,]*\d)")  # "10.000" pieces


def sign_or_size(text: str) -> str | None:
    """``negative`` for ``-2``, ``too_many`` for ``10.000`` (Italian thousands), else None."""
    if _NEGATIVE.search(text):
        return "negative"
    return "too_many" if _THOUSANDS.search(text) else None


def bad_quantity(text: str) -> str | None:
    """``zero``, ``negative`` or ``too_many`` when an order asks for that, else None."""
    bad = sign_or_size(text)
    if bad is not None:
        return bad
    words = tuple(x for x in plain_tokens(text) if x not in w.FILLER)
    items = split_items(read_pieces(words))
    return "zero" if any(item.quantity == 0 for item in items) else None
