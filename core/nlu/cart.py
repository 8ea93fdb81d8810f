"""Cart extraction: split an order message into items, read quantities, match products.

Items are separated by commas and by ``e``/``più``/``poi``; a new quantity after an
item's words also starts a new item (``2 pane 3 latte``). The quantity is the number
before the words (or an ``x2`` after them); a number followed by a unit is a size.
Packaging nouns (``3 pacchi di spaghetti``) are skipped for matching, and their count
is the quantity. A bare number equal to a multiple of the pack named in the product
(``12 rose rosse`` for a bunch of 12, ``sei uova`` for a 6-pack) counts packs. An item
that matches no single product clearly becomes an :class:`UnresolvedItem`: ask, never guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from core.nlu.lexicon import PACKAGING, PARTITIVES, SEPARATOR_WORDS, canonical, is_content
from core.nlu.matching import CatalogIndex, Scored, score
from core.nlu.numbers import Piece
from core.understanding import CartLine, UnresolvedItem

MIN_SCORE = 0.5  # below this the best product is only a guess
AMBIGUITY = 0.8  # rivals scoring more than this share of the best make it ambiguous
MAX_CANDIDATES = 5
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
_BASE = {"kg": ("g", 1000), "hg": ("g", 100), "l": ("ml", 1000), "cl": ("ml", 10)}


@dataclass(slots=True, kw_only=True)
class Item:
    """One requested item while reading: its words, quantity and sizes."""

    words: list[str] = field(default_factory=list)
    quantity: int | None = None
    packaged: bool = False
    sizes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class CartReading:
    """Lines matched, items left to ask about, and matched items given with a number."""

    lines: tuple[CartLine, ...] = ()
    unresolved: tuple[UnresolvedItem, ...] = ()
    explicit: int = 0


def split_items(pieces: tuple[Piece, ...]) -> list[Item]:
    """Group ``pieces`` into items; items without product words are dropped."""
    items: list[Item] = []
    current = Item()
    for i, piece in enumerate(pieces):
        if piece.kind == "sep" or (piece.kind == "word" and piece.text in SEPARATOR_WORDS):
            items.append(current)
            current = Item()
        elif piece.kind == "size":
            current.sizes.append(piece.text)
        elif piece.kind == "quantity":
            current = _take_quantity(current, piece, pieces[i + 1 :], items)
        elif piece.text in PACKAGING:
            current.packaged = current.quantity is not None
        elif piece.text not in PARTITIVES and is_content(canonical(piece.text)):
            current.words.append(canonical(piece.text))
    items.append(current)
    return [item for item in items if item.words]


def _take_quantity(current: Item, piece: Piece, rest: tuple[Piece, ...], items: list[Item]) -> Item:
    """Attach a quantity to ``current`` or start a new item with it."""
    if not current.words:
        if not current.packaged:  # "due mazzi di 12 rose": the 12 is the product's
            current.quantity = piece.value
        return current
    follows_words = bool(rest) and rest[0].kind == "word" and is_content(rest[0].text)
    if current.quantity is None and (piece.marked or not follows_words):
        current.quantity = piece.value  # "spaghetti x3"
        return current
    items.append(current)
    return Item(quantity=piece.value)


def extract_cart(pieces: tuple[Piece, ...], index: CatalogIndex) -> CartReading:
    """Match every item of ``pieces`` against ``index``."""
    totals: dict[str, int] = {}
    unresolved: list[UnresolvedItem] = []
    explicit = 0
    for item in split_items(pieces):
        quantity = item.quantity or 1
        ranked = _by_size(score(index, tuple(item.words)), item.sizes, index)
        explicit += item.quantity is not None and bool(ranked) and ranked[0].score >= MIN_SCORE
        rivals = [s for s in ranked if s.score > ranked[0].score * AMBIGUITY] if ranked else []
        if len(rivals) == 1 and rivals[0].score >= MIN_SCORE:
            product = index.products[rivals[0].index]
            quantity = _packs(quantity, item, index.counts[rivals[0].index])
            if item.quantity is None:
                quantity = _by_amount(item.sizes, index.amounts[rivals[0].index])
            totals[product.id] = totals.get(product.id, 0) + quantity
        elif ranked or item.quantity is not None:
            ids = tuple(index.products[s.index].id for s in (rivals or ranked)[:MAX_CANDIDATES])
            words = " ".join(item.words)
            unresolved.append(UnresolvedItem(text=words, quantity=quantity, candidates=ids))
    lines = tuple(CartLine(product_id=pid, quantity=q) for pid, q in totals.items())
    return CartReading(lines=lines, unresolved=tuple(unresolved), explicit=explicit)


def _by_size(ranked: list[Scored], sizes: list[str], index: CatalogIndex) -> list[Scored]:
    """Keep products of the sizes the customer named, when any of them has one."""
    if not sizes:
        return ranked
    fitting = [s for s in ranked if index.sizes[s.index].intersection(sizes)]
    return fitting or ranked


def _packs(quantity: int, item: Item, count: int) -> int:
    """Units named by a bare number become packs when the product is a pack of ``count``."""
    if item.packaged or item.quantity is None or count <= 1 or quantity % count:
        return quantity
    return quantity // count


def _amount(size: str) -> tuple[str, Decimal] | None:
    """``"1.5kg"`` -> ``("g", 1500)``; None for sizes without a unit."""
    m = _SIZE.match(size)
    if m is None:
        return None
    unit, factor = _BASE.get(m.group(2), (m.group(2), 1))
    return unit, Decimal(m.group(1)) * factor


def _by_amount(asked: list[str], product_size: str | None) -> int:
    """``2 litri di latte`` for a 1 L carton is two cartons; otherwise one."""
    own = _amount(product_size) if product_size else None
    for want in map(_amount, asked):
        if want and own and want[0] == own[0] and own[1] and want[1] > own[1]:
            ratio = want[1] / own[1]
            if ratio == ratio.to_integral_value():
                return int(ratio)
    return 1
