"""WhatsApp catalog ``order`` messages: the catalog cart becomes a proposed cart.

Lines map by ``product_retailer_id``; unknown ids and prices that differ from our
catalogue are reported to the customer (and left out), never silently accepted; so are
products with no stock (with alternatives, as for a typed order). The
cart then follows the same path as a free-text order: Confermo / Modifica / Annulla,
and the order reactor starts one relay per dealer on the ``CartProposed``.
A ``CatalogOrderChecked`` marker makes the handling idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core import conversation_texts as texts
from core.cart_turn import in_stock
from core.catalog import Catalog
from core.conversation import ConversationState, fold, recipient
from core.market import catalog_order_problems, read_catalog_order
from core.nlu.replies import format_price
from core.pricing import price_cart
from core.understanding import CartLine
from events.base import Metadata, NewEvent, RecordedEvent
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

CATALOG_NAMESPACE = uuid.UUID("e1b7c5d2-94a0-4f3e-8c61-2d5a7b9f0e38")
EMPTY_CART = "Nel carrello non c'è nessun articolo che posso ordinare. Scrivimi cosa ti serve."


class CatalogOrderDesk:
    """Turns catalog orders into proposed carts (see the module docstring)."""

    def __init__(self, store: EventStore, catalog: Callable[[], Catalog]) -> None:
        self.store, self.catalog = store, catalog

    async def handle(self, stream: str, fact: RecordedEvent) -> None:
        """Read one ``order`` message of a customer stream, once."""
        msg: MessageReceived = fact.payload
        if msg.order is None:
            return
        history = await self.store.read_stream(stream)
        fid = str(fact.event_id)
        if any(
            isinstance(e.payload, CatalogOrderChecked) and e.payload.fact_id == fid for e in history
        ):
            return
        key = stream.removeprefix("conversation-")
        state = fold(ConversationState(key=key), [e.payload for e in history])
        events = self._decide(state, fid, msg)
        batch = [
            NewEvent(
                event_id=uuid.uuid5(CATALOG_NAMESPACE, f"{fid}:{i}"),
                payload=p,
                metadata=Metadata(causation_id=fid, source="reactor:orders"),
            )
            for i, p in enumerate(events)
        ]
        await self.store.append(stream, Expect.ANY, batch)

    def _decide(self, state: ConversationState, fid: str, msg: MessageReceived) -> list[object]:
        assert msg.order is not None
        catalog = self.catalog()
        reading = read_catalog_order(msg.order, catalog)
        asked = tuple(
            UnderstoodLine(product_id=x.product_id, quantity=x.quantity) for x in reading.lines
        )
        lines, sold_out = in_stock(asked, catalog)  # stock 0 never enters a cart
        notice = "\n".join(filter(None, (catalog_order_problems(reading, catalog), sold_out)))
        out: list[object] = []
        cart_id: str | None = None
        if lines:
            priced = price_cart(
                [CartLine(product_id=x.product_id, quantity=x.quantity) for x in lines], catalog
            )
            if state.pending_cart is not None:
                out.append(CartCancelled(cart_id=state.pending_cart.cart_id, reason="replaced"))
            cart_id = str(uuid.uuid5(CATALOG_NAMESPACE, f"{fid}:cart"))
            out.append(
                CartProposed(
                    cart_id=cart_id, lines=priced.lines, total=priced.total, wamids=(msg.wamid,)
                )
            )
            summary = texts.cart_summary(priced.lines, format_price(priced.total))
            body = f"{notice}\n\n{summary}" if notice else summary
            out.append(self._reply(state, fid, msg, body, texts.CART_BUTTONS))
        else:
            out.append(
                self._reply(state, fid, msg, f"{notice}\n{EMPTY_CART}" if notice else EMPTY_CART)
            )
        checked = CatalogOrderChecked(
            fact_id=fid,
            wamid=msg.wamid,
            unknown=reading.unknown,
            mismatches=reading.mismatches,
            cart_id=cart_id,
        )
        return [checked, *out]

    def _reply(
        self,
        state: ConversationState,
        fid: str,
        msg: MessageReceived,
        text: str,
        buttons: tuple[ReplyButton, ...] = (),
    ) -> ReplyQueued:
        return ReplyQueued(
            outbound_id=str(uuid.uuid5(CATALOG_NAMESPACE, f"{fid}:reply")),
            to=recipient(state.key),
            kind=ReplyKind.BUTTONS if buttons else ReplyKind.TEXT,
            text=text,
            buttons=buttons,
            in_reply_to=msg.wamid,
        )
