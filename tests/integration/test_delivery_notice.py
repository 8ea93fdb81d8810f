"""The delivery notice respects the 24-hour window and opt-outs, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.bootstrap import load_catalog
from adapters.engine.orders import OrderRelayReactor
from adapters.engine.relay_timers import RelayTimers, relay_stream
from adapters.market.live import LiveMarket
from adapters.market.local import LocalMarketOrders
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.market import DELIVERED_TEMPLATE
from core.order_relay import RelayTimeouts
from core.outbound import OutboundMessage, payload_for
from core.outbox.content import content_for
from events.base import NewEvent
from events.conversation import OptedOut, OptSource, PricedLine, ReplyKind, ReplyQueued
from events.market import MarketOrderStatusReceived, OrderNumberAssigned
from events.notify import PushRequested
from events.orders import (
    MarketOrderCreated,
    OrderAccepted,
    OrderConfirmationRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderDrafted,
    OrderRelayedToDealer,
)
from events.whatsapp import MessageReceived
from tests.docs.guide_templates import read_as_sent, registered

pytestmark = pytest.mark.integration
CUSTOMER = "+393281234567"
RID = "relay-delivery-1"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LINE = PricedLine(
    product_id="p-lettiera", dealer_id="d-pet", name="Lettiera agglomerante 10 L",
    quantity=1, unit_price=Decimal("8.90"), line_total=Decimal("8.90"),
)  # fmt: skip


async def put(store: EventStore, stream: str, *payloads: object) -> None:
    """Append ``payloads`` to ``stream``."""
    new = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in payloads]
    await store.append(stream, Expect.ANY, new)


async def delivered(store: EventStore, customer_wrote: datetime, *extra: object) -> list[object]:
    """An accepted relay, the customer's last message at ``customer_wrote``, the market
    saying «delivered»: the customer's stream after the reactor handled it (twice)."""
    message = MessageReceived(
        wamid="wamid.C1", wa_id=CUSTOMER[1:], phone=CUSTOMER, bsuid=None,
        kind="text", text="vorrei una lettiera", sent_at=customer_wrote,
    )  # fmt: skip
    person = await store.people.person_of(CUSTOMER)  # streams are named by person ids
    conversation = f"conversation-{person}"
    await put(store, conversation, message, *extra)
    drafted = OrderDrafted(
        relay_id=RID, customer_key=person, cart_id="cart-1", dealer_id="d-pet",
        dealer_phone="+39328185464", lines=(LINE,), total=Decimal("8.90"),
    )  # fmt: skip
    await put(
        store,
        relay_stream(RID),
        drafted,
        OrderConfirmationRequested(relay_id=RID, requested_at=customer_wrote),
        OrderConfirmed(relay_id=RID, confirmed_at=customer_wrote),
        MarketOrderCreated(relay_id=RID, market_order_id="MO-1"),
        OrderNumberAssigned(relay_id=RID, number=7),
        OrderRelayedToDealer(relay_id=RID, outbound_id="out-d", relayed_at=customer_wrote),
        OrderAccepted(relay_id=RID, accepted_at=customer_wrote),
        MarketOrderStatusReceived(
            relay_id=RID, market_order_id="MO-1", status="delivered", occurred_at=NOW
        ),
    )
    catalog = load_catalog(None)
    reactor = OrderRelayReactor(
        store,
        LocalMarketOrders(store.engines),
        LiveMarket(store, catalog),
        RelayTimers(store, RelayTimeouts()),
        clock=lambda: NOW,
    )
    fact = (await store.read_stream(relay_stream(RID)))[-1]  # the market's status
    await reactor.handle(relay_stream(RID), [fact])
    await reactor.handle(relay_stream(RID), [fact])  # a re-delivery changes nothing
    relay = [e.payload for e in await store.read_stream(relay_stream(RID))]
    assert len([p for p in relay if isinstance(p, OrderDelivered)]) == 1
    assert len([p for p in relay if isinstance(p, PushRequested)]) == 1
    return [e.payload for e in await store.read_stream(conversation)]


async def test_inside_the_window_the_customer_gets_a_text(store: EventStore) -> None:
    """Customer wrote an hour ago: a free-form text naming the order number and the shop."""
    found = await delivered(store, NOW - timedelta(hours=1))
    [notice] = [p for p in found if isinstance(p, ReplyQueued)]
    assert notice.kind is ReplyKind.TEXT
    assert "n. 7" in notice.text
    assert "consegnato" in notice.text


async def test_outside_the_window_the_approved_template_goes_instead(store: EventStore) -> None:
    """Two days since the customer wrote: the template, never a free-form text."""
    found = await delivered(store, NOW - timedelta(days=2))
    [notice] = [p for p in found if isinstance(p, ReplyQueued)]
    assert (notice.kind, notice.text) == (ReplyKind.TEMPLATE, DELIVERED_TEMPLATE)


async def test_the_delivered_template_goes_out_as_the_guide_registers_it(
    store: EventStore,
) -> None:
    """Name, language and no parameters: the wire form reads as docs/deploy.md's body."""
    found = await delivered(store, NOW - timedelta(days=2))
    [notice] = [p for p in found if isinstance(p, ReplyQueued)]
    message = OutboundMessage(outbound_id="o-1", to=CUSTOMER, content=content_for(notice))
    text = read_as_sent(payload_for(message)["template"])
    assert text == registered()[DELIVERED_TEMPLATE].body.strip()
    assert "consegnato" in text


async def test_after_an_opt_out_no_whatsapp_message_is_queued(store: EventStore) -> None:
    """The customer wrote STOP: no business-initiated WhatsApp message (the push still goes)."""
    found = await delivered(store, NOW - timedelta(hours=1), OptedOut(source=OptSource.KEYWORD))
    assert not [p for p in found if isinstance(p, ReplyQueued)]
