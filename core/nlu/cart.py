"""Cart extraction: read an order message's items, match them to products, add them up.

Items and how their quantities bind are read by :mod:`core.nlu.items`. Each item is
matched against the catalogue; a bare number equal to a multiple of the pack named in
the product (``12 rose rosse`` for a bunch of 12, ``sei uova`` for a 6-pack) counts
packs. The same product named twice counts the quantities said, not the mentions (``del
pane ... me ne dai tre pagnotte`` is three loaves). Products the customer explicitly
refuses by name (``tranne le ffp2``) are left out. An item that matches no single
product clearly becomes an :class:`UnresolvedItem`: ask, never guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from core.nlu.items import Item, split_items
from core.nlu.matching import STRONG, CatalogIndex, Scored, score
from core.nlu.numbers import Piece
from core.understanding import CartLine, UnresolvedItem

__all__ = ["CartReading", "Item", "extract_cart", "size_amount", "split_items"]

MIN_SCORE = 0.5  # below this the best product is only a guess
AMBIGUITY = 0.8  # rivals scoring more than this share of the best make it ambiguous
MAX_CANDIDATES = 5
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
_BASE = {"kg": ("g", 1000), "hg": ("g", 100), "l": ("ml", 1000), "cl": ("ml", 10)}
_SMALL = frozenset({"mg", "g", "ml"})  # a number printed with these is never a count


@dataclass(frozen=True, slots=True, kw_only=True)
class CartReading:
    """Lines matched, items left to ask about, and matched items given with a number."""

    lines: tuple[CartLine, ...] = ()
    unresolved: tuple[UnresolvedItem, ...] = ()
    explicit: int = 0


def extract_cart(
    pieces: tuple[Piece, ...], index: CatalogIndex, refused: tuple[str, ...] = ()
) -> CartReading:
    """Match every item of ``pieces`` against ``index``; products ``refused`` names are left out."""
    said: dict[str, int] = {}  # quantities the customer gave, summed per product
    implied: dict[str, int] = {}  # products named without a number
    unresolved: list[UnresolvedItem] = []
    explicit = 0
    for item, ranked, rivals in _matched(_recount(split_items(pieces), index), index):
        quantity = item.quantity or 1
        explicit += item.quantity is not None and bool(ranked) and ranked[0].score >= MIN_SCORE
        if len(rivals) == 1 and rivals[0].score >= MIN_SCORE:
            product = index.products[rivals[0].index]
            quantity = _packs(quantity, item, index.counts[rivals[0].index])
            if item.quantity is None:
                quantity = _by_amount(item.sizes, index.amounts[rivals[0].index])
                implied[product.id] = max(implied.get(product.id, 0), quantity)
            else:
                said[product.id] = said.get(product.id, 0) + quantity
        elif (ranked or item.quantity is not None) and not item.weak:
            ids = tuple(index.products[s.index].id for s in (rivals or ranked)[:MAX_CANDIDATES])
            words = " ".join(item.words)
            unresolved.append(UnresolvedItem(text=words, quantity=quantity, candidates=ids))
    gone = _named(index, refused)
    totals = {pid: said.get(pid) or implied[pid] for pid in {**implied, **said} if pid not in gone}
    lines = tuple(CartLine(product_id=pid, quantity=q) for pid, q in totals.items())
    return CartReading(lines=lines, unresolved=tuple(unresolved), explicit=explicit)


def _recount(items: list[Item], index: CatalogIndex) -> list[Item]:
    """Numbers printed in a product's name, said as part of its name.

    ``tachipirina 500, una scatola``: followed by a count of packs, the first number was
    the name and the packs are the quantity. ``tachipirina 500`` alone: said after the
    words, a number printed with a small unit (mg, g, ml) names the product, since
    nobody counts five hundred boxes; ``lettiera 10`` (10 L) stays a count.
    """
    out: list[Item] = []
    for item in items:
        before = out[-1] if out else None
        counts = item.weak and item.quantity is not None and before is not None
        if counts and before and before.quantity in _printed(index, before, small=False):
            before.quantity, before.packaged, before.trailing = item.quantity, True, False
            continue
        out.append(item)
    for item in out:
        if item.trailing and item.quantity in _printed(index, item, small=True):
            item.quantity, item.packaged = 1, True
    return out


def _printed(index: CatalogIndex, item: Item, *, small: bool) -> set[int]:
    """The whole numbers printed in the name of the one product ``item`` names: with a
    small unit (``500`` mg), or any (``500`` mg, SPF ``50``); empty when unclear."""
    rivals = _match(item, index)[1]
    if len(rivals) != 1:
        return set()
    i = rivals[0].index
    sizes = [m for m in map(_SIZE.match, index.sizes[i]) if m]
    found = {int(float(m.group(1))) for m in sizes if not small or m.group(2) in _SMALL}
    return found if small else found | {index.counts[i]}


def _matched(
    items: list[Item], index: CatalogIndex
) -> Iterator[tuple[Item, list[Scored], list[Scored]]]:
    """Each item with its ranking; an unclear one may turn out to be a list (:func:`_listed`)."""
    for whole in items:
        ranked, rivals = _match(whole, index)
        parts = _listed(whole, index) if len(rivals) != 1 else [whole]
        if len(parts) == 1:
            yield whole, ranked, rivals
        else:
            yield from ((part, *_match(part, index)) for part in parts)


def _listed(item: Item, index: CatalogIndex) -> list[Item]:
    """``latte pane e uova``: nouns listed without a comma are items of their own when
    each, said alone, names a different product by its very word (not by a stem only:
    ``guinzaglio rosso`` stays one item)."""
    if len(item.words) < 2:
        return [item]
    found = []
    for word in item.words:
        alone = _rivals(score(index, (word,)))
        if len(alone) != 1 or alone[0].score < STRONG:
            return [item]
        found.append(alone[0].index)
    if len(set(found)) < len(found):
        return [item]
    first = Item(words=item.words[:1], quantity=item.quantity, packaged=item.packaged)
    return [first, *(Item(words=[word]) for word in item.words[1:])]


def _named(index: CatalogIndex, words: tuple[str, ...]) -> set[str]:
    """Products ``words`` clearly name by their name (``senza confezione regalo`` does not
    refuse the roses whose tag is ``regalo``)."""
    ranked = _rivals(score(index, words)) if words else []
    return {index.products[s.index].id for s in ranked if s.score >= MIN_SCORE and s.cover}


def _match(item: Item, index: CatalogIndex) -> tuple[list[Scored], list[Scored]]:
    """Products ranked for ``item`` and the close rivals of the best.

    Ties are broken by the item's head noun (``guinzaglio rosso`` is a lead, not roses),
    then by its qualifiers (``per il cane``); qualifiers never find a product alone.
    """
    ranked = _by_size(score(index, tuple(item.words)), item.sizes, index)
    rivals = _rivals(ranked)
    if len(rivals) > 1 and len(item.words) > 1 and len(_listed(item, index)) == 1:
        head = _rivals(score(index, tuple(item.words[:1])))  # the noun comes first
        if len(head) == 1 and head[0].index in {s.index for s in rivals}:
            return ranked, [s for s in rivals if s.index == head[0].index]
    if len(rivals) != 1 and item.qualifiers and ranked:
        qualified = _by_size(score(index, (*item.words, *item.qualifiers)), item.sizes, index)
        chosen = _rivals(qualified)  # among the item's own rivals: "formaggio per la pasta"
        if len(chosen) == 1 and chosen[0].index in {s.index for s in rivals}:
            return qualified, chosen
    return ranked, rivals


def _rivals(ranked: list[Scored]) -> list[Scored]:
    return [s for s in ranked if s.score > ranked[0].score * AMBIGUITY] if ranked else []


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


def size_amount(size: str) -> tuple[str, Decimal] | None:
    """``"1.5kg"`` -> ``("g", 1500)``; None for sizes without a unit."""
    m = _SIZE.match(size)
    if m is None:
        return None
    unit, factor = _BASE.get(m.group(2), (m.group(2), 1))
    return unit, Decimal(m.group(1)) * factor


def _by_amount(asked: list[str], product_size: str | None) -> int:
    """``2 litri di latte`` for a 1 L carton is two cartons; otherwise one."""
    own = size_amount(product_size) if product_size else None
    for want in map(size_amount, asked):
        if want and own and want[0] == own[0] and own[1] and want[1] > own[1]:
            ratio = want[1] / own[1]
            if ratio == ratio.to_integral_value():
                return int(ratio)
    return 1
