"""Migration 15 on a database made before it: the deliveries table and column, a replay."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, inspect, select, text

from adapters.readmodel.tables import order_deliveries, whatsapp_order_relays
from adapters.store.event_store import EventStore
from adapters.store.migrations import all_migrations

pytestmark = pytest.mark.integration
MARK = "projection:whatsapp_order_relays"


async def test_migration_15_adds_deliveries_and_replays_the_relays(store: EventStore) -> None:
    """The table and the column appear, the relay rows go, their projection restarts at 0."""
    [step] = [m for m in all_migrations() if m.version == 15]
    async with store.engines.writer.begin() as conn:
        await conn.run_sync(order_deliveries.drop)  # as before the step
        await conn.execute(text("ALTER TABLE whatsapp_order_relays DROP COLUMN delivery_address"))
        await conn.execute(insert(whatsapp_order_relays).values(id="r-1", status="pending"))
        await store.save_checkpoint(MARK, 42, conn)
    async with store.engines.writer.begin() as conn:
        await conn.run_sync(lambda c: step.apply(c, store.dialect))
    async with store.engines.reader.connect() as conn:
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("order_deliveries")}
        )
        relay_columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("whatsapp_order_relays")}
        )
        count = select(func.count()).select_from(whatsapp_order_relays)
        relays = (await conn.execute(count)).scalar()
    assert columns == {"cart_id", "conversation_id", "address", "completed_at"}
    assert "delivery_address" in relay_columns
    assert relays == 0
    assert await store.load_checkpoint(MARK) == 0
