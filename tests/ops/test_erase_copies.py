"""Copies outside a person's stream (ADR 0017): joint seals, market orders, snapshots."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, select

from adapters.engine.relay_writes import new
from adapters.market.local import LocalMarketOrders
from adapters.market.tables import market_orders
from adapters.ops.erase_copies import drop_shared_snapshots, scrub_market_orders
from adapters.store.event_store import EventStore
from adapters.store.snapshots import stream_snapshots
from adapters.store.types import AppendRequest
from core.market import MarketDelivery, MarketOrderRequest
from events.base import ERASED
from events.conversation import PricedLine, ReplyKind, ReplyQueued

pytestmark = pytest.mark.integration
CUSTOMER, OTHER, DEALER = "+393281234567", "+393395556677", "+393471112233"
ADDRESS = "via Torino 15, Milano"
LINE = PricedLine(
    product_id="p-lettiera",
    dealer_id="d-pet",
    name="Lettiera agglomerante 10 L",
    quantity=1,
    unit_price=Decimal("9.90"),
    line_total=Decimal("9.90"),
)
DELIVERY = MarketDelivery(
    address=ADDRESS,
    when_text="lunedì alle 10",
    deliver_at=None,
    payment="carta",
    fee=Decimal("2.90"),
)


def _order(relay: str, customer: str, delivery: MarketDelivery | None) -> MarketOrderRequest:
    return MarketOrderRequest(
        relay_id=relay,
        customer=customer,
        dealer_id="d-pet",
        lines=(LINE,),
        total=Decimal("12.80"),
        delivery=delivery,
    )


async def _rows(store: EventStore) -> dict[str, dict[str, Any]]:
    async with store.engines.reader.connect() as conn:
        rows = (await conn.execute(select(market_orders))).mappings().all()
    return {r["relay_id"]: dict(r) for r in rows}


async def test_market_orders_lose_customer_and_address_only(store: EventStore) -> None:
    """The person's orders keep every fact but the number and address; others are untouched."""
    market = LocalMarketOrders(store.engines)
    await market.create(_order("r-1", CUSTOMER, DELIVERY))
    await market.create(_order("r-2", CUSTOMER, None))  # ordered before the checkout existed
    await market.create(_order("r-3", OTHER, dataclasses.replace(DELIVERY, address="via Po 1")))
    before = await _rows(store)

    assert await scrub_market_orders(store, (CUSTOMER, CUSTOMER.removeprefix("+"))) == 2

    after = await _rows(store)
    assert after["r-1"]["customer"] == after["r-2"]["customer"] == ERASED
    assert after["r-1"]["delivery"] == {**before["r-1"]["delivery"], "address": ERASED}
    assert after["r-2"]["delivery"] is None
    assert after["r-3"] == before["r-3"]
    for relay in ("r-1", "r-2"):
        assert {k: v for k, v in after[relay].items() if k not in ("customer", "delivery")} == {
            k: v for k, v in before[relay].items() if k not in ("customer", "delivery")
        }


async def test_unknown_customer_scrubs_nothing(store: EventStore) -> None:
    """Keys naming no order change no row."""
    await LocalMarketOrders(store.engines).create(_order("r-1", CUSTOMER, DELIVERY))
    before = await _rows(store)
    assert await scrub_market_orders(store, ("+390000000000",)) == 0
    assert await _rows(store) == before


async def _notice(store: EventStore, dealer: str, customer: str, key: str) -> None:
    reply = ReplyQueued(
        outbound_id=key, to=DEALER, kind=ReplyKind.TEXT, text=f"Indirizzo: {ADDRESS}"
    )
    stream = f"conversation-{dealer}"
    request = AppendRequest(stream, await store.stream_version(stream), [new((key,), reply)])
    await store.commit_units([[dataclasses.replace(request, sealed_with=(customer,))]])


async def test_joint_seal_reads_until_either_person_is_erased(store: EventStore) -> None:
    """Sealed for dealer and customer: readable while both are held, erased after either."""
    dealer, customer = await store.people.person_of(DEALER), await store.people.person_of(CUSTOMER)
    await _notice(store, dealer, customer, "n-1")
    await _notice(store, dealer, dealer, "n-2")  # naming the owner again seals for them alone
    stream = f"conversation-{dealer}"
    texts = [e.payload.text for e in await store.read_stream(stream)]
    assert texts == [f"Indirizzo: {ADDRESS}"] * 2

    assert await store.people.erase(customer)
    store.forget_cached()

    texts = [e.payload.text for e in await store.read_stream(stream)]
    assert texts == [ERASED, f"Indirizzo: {ADDRESS}"]


async def test_snapshots_of_streams_sealed_for_the_person_are_dropped(store: EventStore) -> None:
    """The dealer's snapshot goes (it held the address decoded); an unrelated one stays."""
    dealer, customer = await store.people.person_of(DEALER), await store.people.person_of(CUSTOMER)
    other = await store.people.person_of(OTHER)
    await _notice(store, dealer, customer, "n-1")
    await _notice(store, other, other, "n-2")
    now = datetime(2026, 12, 5, tzinfo=UTC)
    async with store.engines.writer.begin() as conn:
        for pid in (dealer, other):
            row = {"name": "conversation", "schema": "s", "version": 1, "data": "{}"}
            await conn.execute(
                insert(stream_snapshots).values(stream=f"conversation-{pid}", saved_at=now, **row)
            )

    assert await drop_shared_snapshots(store, customer) == 1

    async with store.engines.reader.connect() as conn:
        left = (await conn.execute(select(stream_snapshots.c.stream))).scalars().all()
    assert left == [f"conversation-{other}"]
