"""Operations on a cart: apply them, check the limits, keep sold-out products out.

Pure. A cart here is its lines (product id and quantity, in the order they were added);
prices come later from the catalogue (:func:`core.pricing.price_cart`). Applying the
operations recorded in a ``CartRevised`` to the previous cart's lines gives the next
cart's lines, so a revised cart replays from the log alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.catalog import Catalog, Product
from core.nlu import search_products
from events.cart import CartMergeAsked, CartOp, CartOperation
from events.conversation import PricedLine, UnderstoodLine

MAX_PER_PRODUCT = 99
ALTERNATIVES = 3
MIN_KINSHIP = 0.2  # relevance an alternative needs to count as "of the same kind"

Lines = tuple[UnderstoodLine, ...]


def lines_of(priced: Iterable[PricedLine]) -> Lines:
    """The lines of a priced cart."""
    return tuple(UnderstoodLine(product_id=x.product_id, quantity=x.quantity) for x in priced)


def quantity_of(lines: Lines, product_id: str) -> int:
    """How many of ``product_id`` the cart holds (0 when none)."""
    return next((x.quantity for x in lines if x.product_id == product_id), 0)


def _put(lines: Lines, product_id: str, quantity: int) -> Lines:
    """``lines`` with ``product_id`` at ``quantity`` (dropped at 0, appended when new)."""
    out, found = [], False
    for x in lines:
        if x.product_id == product_id:
            found = True
            if quantity > 0:
                out.append(UnderstoodLine(product_id=product_id, quantity=quantity))
        else:
            out.append(x)
    if not found and quantity > 0:
        out.append(UnderstoodLine(product_id=product_id, quantity=quantity))
    return tuple(out)


def _replace(lines: Lines, op: CartOperation) -> Lines:
    old, new = op.product_id or "", op.replacement_id or ""
    quantity = op.quantity or quantity_of(lines, old) or 1
    if quantity_of(lines, new):
        return _put(_put(lines, old, 0), new, quantity_of(lines, new) + quantity)
    if not quantity_of(lines, old):
        return _put(lines, new, quantity)
    return tuple(
        UnderstoodLine(product_id=new, quantity=quantity) if x.product_id == old else x
        for x in lines
    )


def apply_one(lines: Lines, op: CartOperation) -> Lines:
    """``lines`` after one operation (never raises: limits are checked separately)."""
    pid = op.product_id or ""
    have = quantity_of(lines, pid)
    if op.op is CartOp.CLEAR:
        return ()
    if op.op is CartOp.ADD:
        return _put(lines, pid, have + (op.quantity or 1))
    if op.op is CartOp.REMOVE:
        return _put(lines, pid, 0 if op.quantity is None else max(have - op.quantity, 0))
    if op.op is CartOp.SET:
        return _put(lines, pid, max(op.quantity or 0, 0))
    return _replace(lines, op)


def apply(lines: Lines, ops: Sequence[CartOperation]) -> Lines:
    """``lines`` after every operation, in order."""
    for op in ops:
        lines = apply_one(lines, op)
    return lines


def over_limit(lines: Lines) -> tuple[str, ...]:
    """Products asked for more than :data:`MAX_PER_PRODUCT` times."""
    return tuple(x.product_id for x in lines if x.quantity > MAX_PER_PRODUCT)


def sold_out(lines: Lines, catalog: Catalog) -> tuple[Product, ...]:
    """The products of ``lines`` that the catalogue has none of (or no longer has)."""
    found = (catalog.product(x.product_id) for x in lines)
    return tuple(p for p in found if p is not None and not p.in_stock)


def over_stock(lines: Lines, catalog: Catalog) -> tuple[Product, ...]:
    """The products of ``lines`` asked for in more pieces than the stock (some left)."""
    found = ((catalog.product(x.product_id), x.quantity) for x in lines)
    return tuple(p for p, q in found if p is not None and 0 < p.stock < q)


def capped(lines: Lines, products: Iterable[Product]) -> Lines:
    """``lines`` with the quantity of each of ``products`` cut to its stock."""
    stock = {p.id: p.stock for p in products}
    return tuple(
        UnderstoodLine(product_id=x.product_id, quantity=min(x.quantity, stock[x.product_id]))
        if x.product_id in stock
        else x
        for x in lines
    )


def without(lines: Lines, products: Iterable[Product]) -> Lines:
    """``lines`` without the lines of ``products``."""
    gone = {p.id for p in products}
    return tuple(x for x in lines if x.product_id not in gone)


def alternatives(
    product: Product, catalog: Catalog, limit: int = ALTERNATIVES
) -> tuple[Product, ...]:
    """Up to ``limit`` in-stock products of the same shop and kind, most alike first."""
    query = " ".join((product.name, *product.tags))
    out: list[Product] = []
    for hit in search_products(query, catalog, limit=12):
        other = catalog.product(hit.product_id)
        if other is None or other.id == product.id or not other.in_stock:
            continue
        if other.dealer_id == product.dealer_id and hit.score >= MIN_KINSHIP:
            out.append(other)
    return tuple(out[:limit])


def set_aside(
    merge: CartMergeAsked | None, ops: Sequence[CartOperation], catalog: Catalog
) -> list[str]:
    """The products of an unanswered "add or start over?" that a change typed instead
    (``ops``) leaves out: the reply names them rather than dropping them silently."""
    if merge is None:
        return []
    touched = {op.product_id for op in ops}
    found = (catalog.product(x.product_id) for x in merge.lines if x.product_id not in touched)
    return [p.name for p in found if p is not None] + [x.text for x in merge.unresolved]
