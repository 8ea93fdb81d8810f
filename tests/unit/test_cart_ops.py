"""Cart operations (pure): applying them, limits, stock, alternatives, and replaying a revision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cart_ops import (
    MAX_PER_PRODUCT,
    alternatives,
    apply,
    over_limit,
    sold_out,
)
from core.catalog import Catalog, parse_catalog
from core.conversation import ConversationState, fold
from core.pricing import sum_lines
from events.cart import CartOp, CartOperation, CartRevised
from events.conversation import CartCancelled, CartProposed, PricedLine, UnderstoodLine

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"


def catalog() -> Catalog:
    """The demo catalogue."""
    return parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))


def cart(**quantities: int) -> tuple[UnderstoodLine, ...]:
    """Lines from ``p_<name>=quantity`` keywords (``_`` becomes ``-``)."""
    return tuple(
        UnderstoodLine(product_id=k.replace("_", "-"), quantity=v) for k, v in quantities.items()
    )


def op(
    kind: CartOp, pid: str | None = None, qty: int | None = None, new: str | None = None
) -> CartOperation:
    """One operation."""
    return CartOperation(op=kind, product_id=pid, quantity=qty, replacement_id=new)


def test_add_merges_into_an_existing_line_and_appends_a_new_one() -> None:
    """Adding more of a product grows its line; a new product goes last."""
    got = apply(cart(p_pane=1), [op(CartOp.ADD, "p-pane", 2), op(CartOp.ADD, "p-olio", 1)])
    assert got == cart(p_pane=3, p_olio=1)


def test_remove_without_quantity_drops_the_line_with_one_takes_one() -> None:
    """``togli il latte`` drops the line; ``togli una mozzarella`` takes one away."""
    start = cart(p_latte=2, p_mozzarella=3)
    assert apply(start, [op(CartOp.REMOVE, "p-latte")]) == cart(p_mozzarella=3)
    assert apply(start, [op(CartOp.REMOVE, "p-mozzarella", 1)]) == cart(p_latte=2, p_mozzarella=2)
    assert apply(start, [op(CartOp.REMOVE, "p-mozzarella", 5)]) == cart(p_latte=2)


def test_set_changes_the_quantity_in_place() -> None:
    """A set keeps the line's position."""
    assert apply(cart(p_a=1, p_b=2), [op(CartOp.SET, "p-a", 4)]) == cart(p_a=4, p_b=2)


def test_replace_keeps_position_and_quantity_unless_given() -> None:
    """The replacement takes the old line's place and quantity, or the quantity asked."""
    start = cart(p_latte=2, p_pane=1)
    assert apply(start, [op(CartOp.REPLACE, "p-latte", None, "p-olio")]) == cart(p_olio=2, p_pane=1)
    assert apply(start, [op(CartOp.REPLACE, "p-latte", 1, "p-olio")]) == cart(p_olio=1, p_pane=1)


def test_replace_onto_a_product_already_in_the_cart_merges() -> None:
    """Replacing latte with the pane already there leaves one pane line."""
    got = apply(cart(p_latte=2, p_pane=1), [op(CartOp.REPLACE, "p-latte", None, "p-pane")])
    assert got == cart(p_pane=3)


def test_clear_then_add_starts_a_new_cart() -> None:
    """``ricominciamo: ...`` is a clear followed by adds."""
    got = apply(cart(p_latte=2), [op(CartOp.CLEAR), op(CartOp.ADD, "p-caffe", 2)])
    assert got == cart(p_caffe=2)


def test_the_limit_is_per_product() -> None:
    """Only lines above the maximum are reported."""
    assert over_limit(cart(p_a=MAX_PER_PRODUCT, p_b=MAX_PER_PRODUCT + 1)) == ("p-b",)


def test_sold_out_products_are_found_and_alternatives_are_in_stock_same_shop() -> None:
    """A product at stock 0 is reported; its alternatives are in stock, from its shop, at most 3."""
    c = catalog().with_stock("p-shampoo-cane", 0)
    [gone] = sold_out(cart(p_shampoo_cane=1, p_guinzaglio=1), c)
    assert gone.id == "p-shampoo-cane"
    others = alternatives(gone, c)
    assert 0 < len(others) <= 3
    assert all(p.in_stock and p.dealer_id == gone.dealer_id and p.id != gone.id for p in others)


def _priced(lines: tuple[UnderstoodLine, ...], c: Catalog) -> tuple[PricedLine, ...]:
    out = []
    for x in lines:
        p = c.product(x.product_id)
        assert p is not None
        out.append(
            PricedLine(
                product_id=p.id, dealer_id=p.dealer_id, name=p.name, quantity=x.quantity,
                unit_price=p.price, line_total=p.price * x.quantity,
            )
        )  # fmt: skip
    return tuple(out)


@pytest.mark.parametrize(
    "ops",
    [
        (op(CartOp.REMOVE, "p-latte"), op(CartOp.ADD, "p-parmigiano", 1)),
        (op(CartOp.SET, "p-mozzarella", 3),),
        (op(CartOp.REPLACE, "p-latte", None, "p-uova"),),
    ],
)
def test_a_revised_cart_replays_from_its_events(ops: tuple[CartOperation, ...]) -> None:
    """Folding proposed -> revised -> proposed gives the cart the operations describe."""
    c = catalog()
    before = cart(p_mozzarella=2, p_latte=1)
    after = apply(before, ops)
    first = _priced(before, c)
    second = _priced(after, c)
    log = [
        CartProposed(cart_id="c1", lines=first, total=sum_lines(first)),
        CartCancelled(cart_id="c1", reason="revised"),
        CartRevised(cart_id="c2", previous_cart_id="c1", operations=ops),
        CartProposed(cart_id="c2", lines=second, total=sum_lines(second)),
    ]
    state = fold(ConversationState(key="+393400000000"), log)
    assert state.pending_cart is not None
    assert state.pending_cart.cart_id == "c2"
    replayed = tuple(
        UnderstoodLine(product_id=x.product_id, quantity=x.quantity)
        for x in state.pending_cart.lines
    )
    revised = next(e for e in log if isinstance(e, CartRevised))
    assert replayed == apply(before, revised.operations)
