"""Catalogue orders as a decider: a WhatsApp catalog ``order`` message becomes a cart, once.

State: the customer's conversation (the same ``evolve`` the turn uses, for the pending
cart a new one replaces) and the catalog orders already read (``CatalogOrderChecked``
markers). Input: the stored ``order`` message and the catalogue in force. Lines map by
``product_retailer_id``; unknown ids and prices that differ from ours are reported to
the customer and left out, never silently accepted; so are products with no stock. The
known lines become a ``CartProposed`` (replacing a pending cart) with the cart's summary
and the Confermo / Modifica / Annulla buttons; an order with nothing we can sell gets a
plain answer. Nothing is asked of the outside: the decision is settled at once, and the
runner (:mod:`adapters.engine.runner`) appends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Never

from core import conversation_texts as texts
from core.cart_turn import in_stock
from core.catalog import Catalog
from core.conversation import ConversationState, evolve, recipient
from core.decider import Decider, Decision
from core.market import catalog_order_problems, read_catalog_order
from core.nlu.replies import format_price
from core.pricing import price_cart
from core.understanding import CartLine
from events.conversation import (
    CartCancelled,
    CartProposed,
    ReplyButton,
    ReplyKind,
    ReplyQueued,
    UnderstoodLine,
)
from events.market import CatalogOrderChecked
from events.whatsapp import MessageReceived

EMPTY_CART = "Nel carrello non c'è nessun articolo che posso ordinare. Scrivimi cosa ti serve."

CatalogEvent = CatalogOrderChecked | CartCancelled | CartProposed | ReplyQueued


@dataclass(frozen=True, slots=True)
class CatalogDesk:
    """A customer's conversation and the catalog orders of it already read (fact ids)."""

    conversation: ConversationState
    checked: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogOrder:
    """The input: one stored ``order`` message and the catalogue to read it against."""

    fact_id: str
    message: MessageReceived
    catalog: Catalog


def initial_desk(stream: str) -> CatalogDesk:
    """A conversation stream nobody has written to."""
    return CatalogDesk(ConversationState(key=stream.removeprefix("conversation-")))


def evolve_desk(desk: CatalogDesk, event: object) -> CatalogDesk:
    """Total: the conversation follows every event; a marker adds its fact id."""
    desk = replace(desk, conversation=evolve(desk.conversation, event))
    if isinstance(event, CatalogOrderChecked):
        return replace(desk, checked=desk.checked | {event.fact_id})
    return desk


def decide_catalog_order(
    desk: CatalogDesk,
    order: CatalogOrder,
    _recorded: tuple[CatalogEvent, ...],
    _now: datetime,
    ids: Iterator[str],
) -> Decision[CatalogEvent, Never]:
    """The marker, the cart and the answer; nothing for a message already read.

    ``ids`` gives the cart id, then the reply's outbound id (both drawn every time, so
    they do not depend on whether a cart was made).
    """
    msg = order.message
    if msg.order is None or order.fact_id in desk.checked:
        return Decision()
    cart_id, outbound_id = next(ids), next(ids)
    catalog = order.catalog
    reading = read_catalog_order(msg.order, catalog)
    asked = tuple(
        UnderstoodLine(product_id=x.product_id, quantity=x.quantity) for x in reading.lines
    )
    lines, sold_out = in_stock(asked, catalog)  # stock 0 never enters a cart
    notice = "\n".join(filter(None, (catalog_order_problems(reading, catalog), sold_out)))
    state = desk.conversation
    out: list[CatalogEvent] = []
    if lines:
        priced = price_cart(
            [CartLine(product_id=x.product_id, quantity=x.quantity) for x in lines], catalog
        )
        if state.pending_cart is not None:
            out.append(CartCancelled(cart_id=state.pending_cart.cart_id, reason="replaced"))
        out.append(
            CartProposed(
                cart_id=cart_id, lines=priced.lines, total=priced.total, wamids=(msg.wamid,)
            )
        )
        summary = texts.cart_summary(priced.lines, format_price(priced.total))
        body = f"{notice}\n\n{summary}" if notice else summary
        out.append(_reply(state, outbound_id, msg, body, texts.CART_BUTTONS))
    else:
        body = f"{notice}\n{EMPTY_CART}" if notice else EMPTY_CART
        out.append(_reply(state, outbound_id, msg, body))
    checked = CatalogOrderChecked(
        fact_id=order.fact_id,
        wamid=msg.wamid,
        unknown=reading.unknown,
        mismatches=reading.mismatches,
        cart_id=cart_id if lines else None,
    )
    return Decision(events=(checked, *out))


def _reply(
    state: ConversationState,
    outbound_id: str,
    msg: MessageReceived,
    text: str,
    buttons: tuple[ReplyButton, ...] = (),
) -> ReplyQueued:
    return ReplyQueued(
        outbound_id=outbound_id,
        to=recipient(state.key),
        kind=ReplyKind.BUTTONS if buttons else ReplyKind.TEXT,
        text=text,
        buttons=buttons,
        in_reply_to=msg.wamid,
    )


CATALOG_ORDERS: Decider[CatalogDesk, CatalogOrder, CatalogEvent, Never] = Decider(
    initial=initial_desk, evolve=evolve_desk, decide=decide_catalog_order
)
