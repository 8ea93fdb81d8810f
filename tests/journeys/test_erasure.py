"""Erasure in a running service: an ordering customer goes, the dealer and the order stay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.market.tables import market_orders
from adapters.ops.audit import audit
from adapters.ops.erase import erase_person
from adapters.ops.replay import replay
from adapters.readmodel.tables import whatsapp_order_relays
from events.base import ERASED
from events.whatsapp import MessageReceived
from tests.conftest import person_stream
from tests.journeys.conftest import CUSTOMER, PET, Journey

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]
ORDER_TEXT = "Vorrei 2 crocchette per cane e una lettiera"


async def _order_rows(j: Journey) -> list[dict[str, object]]:
    async with j.deps.engines.reader.connect() as conn:
        rows = (await conn.execute(select(market_orders))).mappings().all()
    return [dict(r) for r in rows]


async def test_erasing_an_ordering_customer(journey_factory: Start) -> None:
    """Order placed and relayed; erase the customer: no trace, the dealer's side intact."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, ORDER_TEXT)
    await j.confirm(CUSTOMER)
    await j.next_to(PET, 1, contains="Nuovo ordine Dloop n. 1")
    await j.next_to(CUSTOMER, 0, contains="ordine n. 1")
    [order] = await _order_rows(j)
    assert order["customer"] == CUSTOMER  # the market delivers to the number
    customer_stream, dealer_stream = person_stream(CUSTOMER), person_stream(PET)

    await erase_person(j.deps.store, CUSTOMER)

    [order] = await _order_rows(j)
    assert order["customer"] == ERASED
    database = Path(str(j.deps.engines.writer.url.database))
    blob = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    for secret in ("3281234567", "crocchette per cane e una lettiera"):
        files = [
            (f.name, f.read_bytes().count(secret.encode()))
            for f in database.parent.glob(database.name + "*")
        ]
        assert secret.encode() not in blob, (_where(database, secret), files)
    history = await j.deps.store.read_stream(customer_stream)
    texts = {e.payload.text for e in history if isinstance(e.payload, MessageReceived)}
    assert texts == {ERASED}
    dealer = await j.deps.store.read_stream(dealer_stream)
    assert [e.payload.text for e in dealer if isinstance(e.payload, MessageReceived)] == ["aiuto"]
    async with j.deps.engines.reader.connect() as conn:
        [relay] = (await conn.execute(select(whatsapp_order_relays))).mappings().all()
    assert relay["dealer_id"] == "d-pet"
    result = await replay(j.deps.store, customer_stream)
    assert result.final_stage is not None
    assert not result.differences
    assert (await audit(j.deps.store)).findings == []


def _where(database: Path, secret: str) -> list[str]:
    import sqlite3  # noqa: PLC0415

    conn = sqlite3.connect(database)
    found = []
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        for row in conn.execute(f'SELECT * FROM "{name}"'):  # noqa: S608
            if secret in repr(row):
                found.append(f"{name}: {row!r}"[:300])
    return found
