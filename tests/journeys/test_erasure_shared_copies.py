"""Erasure reaches the customer's address wherever it was copied (ADR 0017), on both backends.

The checkout's address reaches the dealer's WhatsApp message and the local market order.
After ``erase`` the address is nowhere in the database (SQLite: the file, its WAL and
shared memory byte for byte; PostgreSQL: every row of every table as text), while the
order's non-personal facts stay and replay, audit and what-if still pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from adapters.market.tables import market_orders
from adapters.ops.audit import audit
from adapters.ops.erase import erase_person
from adapters.ops.replay import replay
from adapters.ops.whatif import what_if
from events.base import ERASED
from events.conversation import ReplyQueued
from events.delivery import DeliveryScheduled
from events.orders import OrderConfirmed
from tests.conftest import person_stream
from tests.engine.conftest import pg_database
from tests.journeys.conftest import CUSTOMER, PET, Journey, body

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]
ADDRESS = "via Torino 15, Milano"  # in the journeys' DELIVERY details
SECRETS = ("Torino 15", "via Torino")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings overrides: the default SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    async for url in pg_database():
        yield {"database_url": url}


async def _orders(j: Journey) -> list[dict[str, Any]]:
    async with j.deps.engines.reader.connect() as conn:
        return [dict(r) for r in (await conn.execute(select(market_orders))).mappings().all()]


async def _stored_text(j: Journey) -> str:
    """Everything the database holds, as text (SQLite: raw bytes of every file)."""
    if j.deps.store.dialect == "sqlite":
        database = Path(str(j.deps.engines.writer.url.database))
        files = database.parent.glob(database.name + "*")
        return b"".join(f.read_bytes() for f in files).decode("utf-8", "replace")
    parts = []
    async with j.deps.engines.reader.connect() as conn:
        tables = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
        for (name,) in tables.all():
            rows = await conn.execute(text(f'SELECT t::text FROM "{name}" t'))  # noqa: S608
            parts += [r[0] for r in rows.all()]
    return "\n".join(parts)


async def _ordered_with_checkout(j: Journey) -> None:
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "Vorrei una lettiera")
    await j.confirm(CUSTOMER)
    relayed = await j.next_to(PET, 1, contains="Nuovo ordine")
    assert f"Indirizzo: {ADDRESS}" in body(relayed)  # what Meta was asked to send


async def test_erase_reaches_the_address_in_the_dealer_message_and_market_order(
    backend: dict[str, Any], journey_factory: Start
) -> None:
    """The address is gone from every table; the order's facts and the tools still work."""
    j = await journey_factory(**backend)
    await _ordered_with_checkout(j)
    [before] = await _orders(j)
    assert before["delivery"]["address"] == ADDRESS
    assert ADDRESS in await _stored_text(j)  # the market's copy: the scan sees clear text
    customer, dealer = person_stream(CUSTOMER), person_stream(PET)

    await erase_person(j.deps.store, CUSTOMER)

    stored = await _stored_text(j)
    for secret in SECRETS:
        assert secret not in stored, secret
    [after] = await _orders(j)
    assert after["customer"] == ERASED
    assert after["delivery"] == {**before["delivery"], "address": ERASED}
    assert (after["lines"], after["total"], after["status"]) == (
        before["lines"],
        before["total"],
        before["status"],
    )
    notices = [
        e.payload
        for e in await j.deps.store.read_stream(dealer)
        if isinstance(e.payload, ReplyQueued)
    ]
    assert ERASED in {n.text for n in notices}
    relay = next(
        e.stream for e in await j.deps.store.read_all(0, 10_000) if e.stream.startswith("order-")
    )
    kept = [e.payload for e in await j.deps.store.read_stream(relay)]
    [scheduled] = [p for p in kept if isinstance(p, DeliveryScheduled)]
    assert (scheduled.payment, str(scheduled.fee)) == ("contanti", "2.90")
    assert any(isinstance(p, OrderConfirmed) for p in kept)
    for stream in (customer, dealer):
        result = await replay(j.deps.store, stream)
        assert not result.differences, stream
    assert (await audit(j.deps.store)).findings == []
    report = await what_if(j.deps.store, j.deps.assistant, j.deps.catalog)
    assert report.differences == []


async def test_erasing_the_dealer_hides_the_message_but_not_the_customers_address(
    journey_factory: Start,
) -> None:
    """Both held: the dealer's message reads whole; erasing the dealer keeps the customer's."""
    j = await journey_factory()
    await _ordered_with_checkout(j)
    dealer = person_stream(PET)
    notices = [
        e.payload
        for e in await j.deps.store.read_stream(dealer)
        if isinstance(e.payload, ReplyQueued)
    ]
    assert any(ADDRESS in n.text for n in notices)

    await erase_person(j.deps.store, PET)

    notices = [
        e.payload
        for e in await j.deps.store.read_stream(dealer)
        if isinstance(e.payload, ReplyQueued)
    ]
    assert {n.text for n in notices} == {ERASED}
    history = await j.deps.store.read_stream(person_stream(CUSTOMER))
    assert any(getattr(e.payload, "address", None) == ADDRESS for e in history)
