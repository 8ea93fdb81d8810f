"""The catalogue-order decider (pure): once per message, problems reported, carts replaced."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Never

from adapters.bootstrap import load_catalog
from core.catalog import Catalog
from core.catalog_orders import (
    CATALOG_ORDERS,
    EMPTY_CART,
    CatalogDesk,
    CatalogEvent,
    CatalogOrder,
)
from core.decider import Decision
from events.conversation import CartCancelled, CartProposed, ReplyKind, ReplyQueued
from events.market import CatalogOrderChecked, PriceMismatch
from events.whatsapp import Order, OrderItem
from tests.unit.test_conversation_machine import msg

CATALOG = load_catalog(None)
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
STREAM = "conversation-p-1"


def _item(rid: str, qty: int, price: str) -> OrderItem:
    return OrderItem(
        product_retailer_id=rid, quantity=qty, item_price=Decimal(price), currency="EUR"
    )


def order(*items: OrderItem, fact: str = "f1", catalog: Catalog = CATALOG) -> CatalogOrder:
    """A stored catalog ``order`` message with ``items``, as the decider's input."""
    message = replace(msg(None, kind="order"), order=Order(catalog_id="c", text=None, items=items))
    return CatalogOrder(fact_id=fact, message=message, catalog=catalog)


def decide(given: CatalogOrder, desk: CatalogDesk | None = None) -> Decision[CatalogEvent, Never]:
    """One decision with the ids ``cart-1`` and ``reply-1``."""
    state = desk or CATALOG_ORDERS.initial(STREAM)
    return CATALOG_ORDERS.decide(state, given, (), T0, iter(["cart-1", "reply-1"]))


def test_known_lines_become_a_cart_and_the_problems_are_told() -> None:
    """Our product at our price is proposed; an unknown id and another price are reported."""
    decision = decide(
        order(_item("p-lettiera", 2, "9.90"), _item("p-rose", 1, "40.00"), _item("X", 1, "1"))
    )
    assert decision.settled
    checked, cart, reply = decision.events
    assert isinstance(checked, CatalogOrderChecked)
    assert (checked.fact_id, checked.cart_id, checked.unknown) == ("f1", "cart-1", ("X",))
    assert checked.mismatches == (
        PriceMismatch(product_id="p-rose", sent_price=Decimal("40.00"), our_price=Decimal("45.00")),
    )
    assert isinstance(cart, CartProposed)
    assert [(line.product_id, line.quantity) for line in cart.lines] == [("p-lettiera", 2)]
    assert isinstance(reply, ReplyQueued)
    assert (reply.outbound_id, reply.kind, reply.in_reply_to) == (
        "reply-1",
        ReplyKind.BUTTONS,
        checked.wamid,
    )
    unknown, mispriced, _, summary = reply.text.split("\n", 3)
    assert unknown.endswith("catalogo: X.")
    assert "€ 40,00 nel carrello, € 45,00 da noi" in mispriced
    assert summary.startswith("Ecco il tuo carrello:")


def test_an_order_with_nothing_to_sell_gets_the_empty_cart_answer() -> None:
    """Only unknown ids: no cart, a plain text answer and a marker without a cart id."""
    checked, reply = decide(order(_item("X", 1, "1"))).events
    assert isinstance(checked, CatalogOrderChecked)
    assert checked.cart_id is None
    assert isinstance(reply, ReplyQueued)
    assert reply.kind is ReplyKind.TEXT
    assert reply.text.endswith(EMPTY_CART)


def test_a_sold_out_product_never_enters_the_cart() -> None:
    """Stock 0 is left out and named; with nothing left the order gets the empty answer."""
    empty = CATALOG.with_stock("p-lettiera", 0)
    events = decide(order(_item("p-lettiera", 1, "9.90"), catalog=empty)).events
    assert not any(isinstance(e, CartProposed) for e in events)
    reply = events[-1]
    assert isinstance(reply, ReplyQueued)
    assert reply.text.endswith(EMPTY_CART)
    assert reply.text != EMPTY_CART  # the sold-out product is named before it


def test_a_new_catalog_cart_replaces_the_pending_one() -> None:
    """A cart still waiting for Confermo is cancelled as replaced, then the new one proposed."""
    first = order(_item("p-lettiera", 1, "9.90"), fact="f1")
    desk = CATALOG_ORDERS.fold(CATALOG_ORDERS.initial(STREAM), list(decide(first).events))
    assert desk.conversation.pending_cart is not None
    second = CATALOG_ORDERS.decide(
        desk, order(_item("p-lettiera", 3, "9.90"), fact="f2"), (), T0, iter(["cart-2", "r-2"])
    )
    cancelled = next(e for e in second.events if isinstance(e, CartCancelled))
    assert (cancelled.cart_id, cancelled.reason) == ("cart-1", "replaced")
    assert any(isinstance(e, CartProposed) and e.cart_id == "cart-2" for e in second.events)


def test_a_message_already_read_decides_nothing() -> None:
    """The marker in the folded state makes the handling idempotent."""
    given = order(_item("p-lettiera", 1, "9.90"))
    desk = CATALOG_ORDERS.fold(CATALOG_ORDERS.initial(STREAM), list(decide(given).events))
    assert desk.checked == frozenset({"f1"})
    assert decide(given, desk) == Decision()


def test_a_message_without_an_order_decides_nothing() -> None:
    """A text message handed to the desk by mistake is not an order: nothing is decided."""
    given = CatalogOrder(fact_id="f9", message=msg("ciao"), catalog=CATALOG)
    assert decide(given) == Decision()
