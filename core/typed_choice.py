"""Answering a choice list by typing: "la prima", "quelle per il cane", or a product's name.

After a list message ("which crocchette did you mean?") the customer may write instead of
tapping. An ordinal (``la prima``, ``il secondo``, ``l'ultima``, ``2``) picks that row in
the order the list showed; otherwise the words are matched against the listed products
only (``per gatto``, ``quello da uomo``, ``orchidea``), and a row is picked when one
product fits clearly better than the others. ``nessuno`` answers "none of these". A text
that picks nothing is an ordinary new message. Pure.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from decimal import Decimal

from core import choices
from core.catalog import Catalog, Product
from core.nlu import index_for
from core.nlu.cart import size_amount
from core.nlu.matching import content_words, score
from core.nlu.normalize import stem, tokenize
from core.nlu.numbers import read_pieces
from events.conversation import UnresolvedLine

ORDINALS = {
    "primo": 0, "prima": 0, "primi": 0, "prime": 0, "secondo": 1, "seconda": 1, "secondi": 1,
    "seconde": 1, "terzo": 2, "terza": 2, "quarto": 3, "quarta": 3, "quinto": 4, "quinta": 4,
}  # fmt: skip
LAST = frozenset({"ultimo", "ultima", "ultimi", "ultime"})
NONE_WORDS = frozenset({"nessuno", "nessuna", "nessun"})
MAX_WORDS = 8  # a longer text is a new message, not an answer to the list
ROW_WORDS = frozenset({"la", "il", "lo", "l", "numero", "n", "quella", "quello", "opzione"})
CLEAR_MARGIN = 1.15  # the best row must beat the next by this factor
_CURRENCY = frozenset({"euro", "eur"})
_AMOUNT = re.compile(r"\d+(?:[.,]\d{1,2})?")


def _tokens(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in {",", "?"}]


def _ordinal(tokens: Sequence[str], count: int) -> int | None:
    for t in tokens:
        if t in ORDINALS and ORDINALS[t] < count:
            return ORDINALS[t]
        if t in LAST and count:
            return count - 1
    if (digit := _row_number(tokens)) is not None and 1 <= digit <= count:
        return digit - 1  # "2", "la 2", "numero 2"
    return None


def _row_number(tokens: Sequence[str]) -> int | None:
    """The row a bare number names ("2", "la 2"); not "per gatto, 2" (two of those)."""
    digits = [t for t in tokens if t.isdigit()]
    rest = [t for t in tokens if not t.isdigit()]
    if len(digits) == 1 and len(tokens) <= 3 and set(rest) <= ROW_WORDS:
        return int(digits[0])
    return None


def typed_quantity(text: str) -> int | None:
    """How many a typed answer asks for ("quelle del gatto, due", "un paio per gatto"), or
    None. Only a count of two or more, and never a bare row number ("2", "la 2")."""
    tokens = _tokens(text)
    if _row_number(tokens) is not None:
        return None
    counts = [p.value for p in read_pieces(tuple(tokens)) if p.kind == "quantity"]
    return counts[0] if len(counts) == 1 and counts[0] >= 2 else None


def _by_price(tokens: Sequence[str], options: Sequence[Product]) -> int | None:
    """``la più economica`` / ``quella meno cara``, ``la più cara``: by price."""
    text = " ".join(tokens)
    prices = [p.price for p in options]
    if not prices:
        return None
    if any(w in text for w in ("economic", "meno car", "meno costos", "piu bass")):
        return prices.index(min(prices))
    if any(w in text for w in ("piu car", "piu costos", "costosa", "costoso")):
        return prices.index(max(prices))
    said = [_money(t) for t, nxt in itertools.pairwise(tokens) if nxt in _CURRENCY]
    if len(said) == 1 and said[0] is not None:  # "quella da 8 euro": the row of that price
        gaps = sorted((abs(price - said[0]), row) for row, price in enumerate(prices))
        return gaps[0][1] if len(gaps) == 1 or gaps[0][0] < gaps[1][0] else None
    return None


def _money(token: str) -> Decimal | None:
    """``8`` or ``29,90`` as an amount; None for a word."""
    return Decimal(token.replace(",", ".")) if _AMOUNT.fullmatch(token) else None


def _sizes(tokens: Sequence[str]) -> list[tuple[str, Decimal]]:
    """The sizes said in ``tokens`` in base units: ``1,5 kg`` -> ("g", 1500)."""
    found = (size_amount(p.text) for p in read_pieces(tuple(tokens)) if p.kind == "size")
    return [x for x in found if x is not None]


def _by_size(tokens: Sequence[str], options: Sequence[Product]) -> int | None:
    """``quelle da 3 kg``, ``quella da 1kg``: the row whose size in the name is the one said,
    else the one nearest to it in the same unit when it is clearly nearest."""
    said = _sizes(tokens)
    if len(said) != 1:
        return None
    unit, amount = said[0]
    gaps: dict[int, float] = {}
    for row, product in enumerate(options):
        for u, value in _sizes(tokenize(product.name)):
            if u == unit and value > 0 and amount > 0:
                gaps[row] = min(gaps.get(row, math.inf), abs(math.log(float(value / amount))))
    ranked = sorted(gaps.items(), key=lambda kv: kv[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _by_words(words: tuple[str, ...], options: Sequence[Product], catalog: Catalog) -> int | None:
    """The row whose product ``words`` describe clearly best, or None."""
    if not words:
        return None
    index = index_for(catalog)
    listed = {p.id: i for i, p in enumerate(options)}
    best: dict[int, float] = {}
    for s in score(index, words, limit=10_000):
        row = listed.get(index.products[s.index].id)
        if row is not None and s.score > 0:
            best.setdefault(row, s.score)
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] < ranked[1][1] * CLEAR_MARGIN):
        return None
    return ranked[0][0]


def read_typed(text: str, item: UnresolvedLine, catalog: Catalog) -> str | None:
    """The product id a typed answer picks, ``choices.NONE`` for none, or None (no pick)."""
    tokens = _tokens(text)
    if not tokens or len(tokens) > MAX_WORDS:
        return None
    if NONE_WORDS & set(tokens):
        return choices.NONE
    options = choices.options(item, catalog)
    row = _ordinal(tokens, len(options))
    row = _by_price(tokens, options) if row is None else row
    row = _by_size(tokens, options) if row is None else row
    if row is None:
        said = {stem(w) for w in tokenize(item.text)}  # the words the list was about
        words = tuple(w for w in content_words(tuple(tokens)) if stem(w) not in said)
        row = _by_words(words, options, catalog)
    return None if row is None else options[row].id
