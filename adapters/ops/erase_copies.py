"""The copies of a person's data that live outside their own stream, reached by erasure.

Two kinds (docs/adr/0017-erasing-shared-copies.md):

- The local market's orders (adapter state, not a projection) name the customer and, since
  the checkout (ADR 0010), hold the delivery address: both are overwritten with
  ``[erased]``; the items, totals, time, payment and fee stay.
- Another person's stream may hold events sealed with this person's key too (the dealer's
  order message carries the customer's address). The log needs nothing: those fields
  read as ``[erased]`` once the key is gone. But a stream snapshot of such a stream holds
  them decoded, so it is dropped; the next turn refolds it from the log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from adapters.market.tables import market_orders
from adapters.ops.rawlog import table_exists
from adapters.store.event_store import EventStore
from adapters.store.schema import events as event_rows
from adapters.store.snapshots import stream_snapshots
from events.base import ERASED

SHARED_COPIES = (market_orders.name, stream_snapshots.name)  # tables erasure writes (VACUUM)


async def scrub_market_orders(store: EventStore, keys: tuple[str, ...]) -> int:
    """Erase customer and delivery address of the orders of ``keys``; how many orders."""
    if not await table_exists(store.engines, market_orders.name):
        return 0
    t = market_orders
    async with store.transaction() as conn:
        rows = (
            await conn.execute(select(t.c.id, t.c.delivery).where(t.c.customer.in_(keys)))
        ).all()
        for order_id, delivery in rows:
            await conn.execute(
                update(t)
                .where(t.c.id == order_id)
                .values(customer=ERASED, delivery=_scrubbed(delivery))
            )
    return len(rows)


def _scrubbed(delivery: Any) -> Any:
    """The delivery without its address (None and odd shapes kept as they are)."""
    if isinstance(delivery, dict) and delivery.get("address"):
        return {**delivery, "address": ERASED}
    return delivery


async def drop_shared_snapshots(store: EventStore, person_id: str) -> int:
    """Drop the snapshots of every stream holding events sealed for ``person_id``."""
    # The person id is in clear in a sealed value's people list ({"p": [...]}).
    pattern = f'%"{person_id}"%'
    async with store.engines.reader.connect() as conn:
        found = await conn.execute(
            select(event_rows.c.stream).where(event_rows.c.data.like(pattern)).distinct()
        )
        streams = [r[0] for r in found.all()]
    if not streams:
        return 0
    async with store.engines.writer.begin() as conn:
        await conn.execute(delete(stream_snapshots).where(stream_snapshots.c.stream.in_(streams)))
    return len(streams)
