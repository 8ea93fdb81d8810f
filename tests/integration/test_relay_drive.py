"""The order relay's drive on the runner, on SQLite and PostgreSQL: numbers and conflicts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.bootstrap import load_catalog
from adapters.engine.conflicts import ConflictsExhaustedError
from adapters.engine.orders import OrderRelayReactor
from adapters.engine.relay_timers import RelayTimers, relay_stream
from adapters.engine.relay_writes import NUMBERS_STREAM
from adapters.market.live import LiveMarket
from adapters.market.local import LocalMarketOrders
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.market import MarketOrderRequest
from core.order_relay import RelayTimeouts
from core.ports import MarketOrders
from events.base import NewEvent, RecordedEvent
from events.conversation import PricedLine, ReplyQueued
from events.market import OrderNumberAssigned, RelayTimerFired
from events.notify import PushRequested
from events.orders import (
    MarketOrderCreated,
    OrderConfirmationRequested,
    OrderConfirmed,
    OrderDrafted,
    OrderExpired,
    OrderRelayedToDealer,
)

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LINE = PricedLine(
    product_id="p-lettiera", dealer_id="d-pet", name="Lettiera agglomerante 10 L",
    quantity=1, unit_price=Decimal("8.90"), line_total=Decimal("8.90"),
)  # fmt: skip


async def confirmed(store: EventStore, rid: str) -> None:
    """A relay the customer confirmed, waiting for its market order."""
    drafted = OrderDrafted(
        relay_id=rid, customer_key="+393281234567", cart_id=f"cart-{rid}", dealer_id="d-pet",
        dealer_phone="+39328185464", lines=(LINE,), total=Decimal("8.90"),
    )  # fmt: skip
    payloads = (
        drafted,
        OrderConfirmationRequested(relay_id=rid, requested_at=NOW),
        OrderConfirmed(relay_id=rid, confirmed_at=NOW),
    )
    new = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in payloads]
    await store.append(relay_stream(rid), Expect.ANY, new)


def reactor(store: EventStore, market: MarketOrders) -> OrderRelayReactor:
    """The order relay reactor over ``store`` with ``market``, its clock fixed at ``NOW``."""
    catalog = load_catalog(None)
    timers = RelayTimers(store, RelayTimeouts())
    return OrderRelayReactor(store, market, LiveMarket(store, catalog), timers, clock=lambda: NOW)


async def test_relays_driven_at_once_get_distinct_numbers(store: EventStore) -> None:
    """Six relays driven together: each reaches its dealer once, numbered 1 to 6, none twice.

    Every relay takes the next number at the numbers stream's version; the ones that lose
    the race conflict and re-decide their number step under the one policy.
    """
    rids = [f"relay-drive-{i}" for i in range(6)]
    for rid in rids:
        await confirmed(store, rid)
    relays = reactor(store, LocalMarketOrders(store.engines))
    await asyncio.gather(*(relays.advance(rid, market=True) for rid in rids))
    numbers = [e.payload for e in await store.read_stream(NUMBERS_STREAM)]
    assert sorted(n.number for n in numbers if isinstance(n, OrderNumberAssigned)) == [*range(1, 7)]
    for rid in rids:
        relay = [e.payload for e in await store.read_stream(relay_stream(rid))]
        assert len([p for p in relay if isinstance(p, MarketOrderCreated)]) == 1
        assert len([p for p in relay if isinstance(p, OrderNumberAssigned)]) == 1
        assert len([p for p in relay if isinstance(p, OrderRelayedToDealer)]) == 1


async def test_the_dealer_gets_one_message_and_the_customer_one_notice(store: EventStore) -> None:
    """Driving a relay twice queues nothing new: the second drive finds nothing to do."""
    await confirmed(store, "relay-once")
    relays = reactor(store, LocalMarketOrders(store.engines))
    await relays.advance("relay-once", market=True)
    await relays.advance("relay-once", market=True)
    dealer = await store.read_stream(await store.people.stream_of("conversation-+39328185464"))
    assert len([e for e in dealer if isinstance(e.payload, ReplyQueued)]) == 1
    relay = [e.payload for e in await store.read_stream(relay_stream("relay-once"))]
    assert len([p for p in relay if isinstance(p, OrderRelayedToDealer)]) == 1


class RacingMarket:
    """A market whose every answer arrives after another writer touched the relay."""

    def __init__(self, store: EventStore) -> None:
        self.store, self.calls = store, 0

    async def create(self, order: MarketOrderRequest) -> str:
        """Write to the relay stream first (a harmless push), then answer with an id."""
        self.calls += 1
        push = PushRequested(
            notification_id=str(uuid.uuid4()), audience="support", reason="test", title="t",
            body="b",
        )  # fmt: skip
        new = [NewEvent(event_id=uuid.uuid4(), payload=push)]
        await self.store.append(relay_stream(order.relay_id), Expect.ANY, new)
        return "MO-race"


async def test_a_drive_that_keeps_conflicting_is_raised_not_dropped(store: EventStore) -> None:
    """Every attempt conflicts: the policy runs out and the error reaches the dispatcher
    (which parks the fact), where the old loop gave up silently after ten tries."""
    await confirmed(store, "relay-race")
    market = RacingMarket(store)
    with pytest.raises(ConflictsExhaustedError):
        await reactor(store, market).advance("relay-race", market=True)
    relay = [e.payload for e in await store.read_stream(relay_stream("relay-race"))]
    assert not [p for p in relay if isinstance(p, MarketOrderCreated)]
    assert market.calls > 1  # each re-decision asked the market again (idempotent per relay)


def harmless_push() -> NewEvent:
    """A support push written into a relay stream: it moves the stream's version only."""
    push = PushRequested(
        notification_id=str(uuid.uuid4()), audience="support", reason="test", title="t", body="b"
    )
    return NewEvent(event_id=uuid.uuid4(), payload=push)


async def test_a_timer_racing_another_writer_decides_again(store: EventStore) -> None:
    """A relay's confirmation timer fires while another writer appends to the relay: the
    timer's write conflicts, and it reloads and decides again under the one policy (it used
    to raise the conflict to the dispatcher). Every relay expires exactly once."""
    rids = [f"relay-timer-{i}" for i in range(12)]
    relays = reactor(store, LocalMarketOrders(store.engines))
    fired_at = NOW + timedelta(hours=2)
    timers = []
    for rid in rids:
        drafted = OrderDrafted(
            relay_id=rid, customer_key="+393281234567", cart_id=f"cart-{rid}", dealer_id="d-pet",
            dealer_phone="+39328185464", lines=(LINE,), total=Decimal("8.90"),
        )  # fmt: skip
        asked = OrderConfirmationRequested(relay_id=rid, requested_at=NOW)
        fired = RelayTimerFired(relay_id=rid, timer="confirmation", fired_at=fired_at)
        new = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in (drafted, asked, fired)]
        await store.append(relay_stream(rid), Expect.ANY, new)
        timers.append((await store.read_stream(relay_stream(rid)))[-1])

    async def race(rid: str, timer: RecordedEvent) -> None:
        stream = relay_stream(rid)
        other = store.append(stream, Expect.ANY, [harmless_push()])
        await asyncio.gather(relays.handle(stream, [timer]), other)

    await asyncio.gather(*(race(rid, t) for rid, t in zip(rids, timers, strict=True)))
    for rid in rids:
        relay = [e.payload for e in await store.read_stream(relay_stream(rid))]
        assert len([p for p in relay if isinstance(p, OrderExpired)]) == 1, rid
        assert len([p for p in relay if isinstance(p, PushRequested)]) == 1, rid
