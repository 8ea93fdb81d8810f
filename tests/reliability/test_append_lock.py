"""PostgreSQL: a read-side transaction (a projection batch) never holds up webhook appends.

Found by ``dloop-bot loadtest --spawn postgres --processes 2``: ``store.transaction()``
took the append lock, so every projection batch (held open over many round trips, up
to seconds under load) stalled every append of every process behind it, and webhooks
timed out. Read-side transactions now take their own lock.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from adapters.store.types import Expect
from events.base import NewEvent
from tests.conftest import PG_URL, drop_pg_schema, make_pg_engines
from tests.support.sample_events import Noted

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
async def two_processes() -> AsyncIterator[tuple[EventStore, EventStore]]:
    """Two stores with their own engines on one fresh schema, as two processes have."""
    first, schema = await make_pg_engines()
    await migrate(first)
    second = create_engines(PG_URL, pg_schema=schema)
    try:
        yield EventStore(first), EventStore(second)
    finally:
        await first.dispose()
        await second.dispose()
        await drop_pg_schema(schema)


def _new() -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text="ciao"))


async def test_an_append_goes_through_while_another_process_holds_a_read_side_transaction(
    two_processes: tuple[EventStore, EventStore],
) -> None:
    """Process A inside ``transaction()``; process B's append commits before A finishes."""
    a, b = two_processes
    async with a.transaction() as conn:
        await a.save_checkpoint("projection:test", 1, conn)
        result = await asyncio.wait_for(b.append("s-1", Expect.ANY, [_new()]), 5)
    assert result.version == 1
    assert [e.version for e in await a.read_stream("s-1")] == [1]


async def test_read_side_transactions_of_two_processes_still_exclude_each_other(
    two_processes: tuple[EventStore, EventStore],
) -> None:
    """Two projection runners never interleave: B's transaction waits for A's."""
    a, b = two_processes

    async def enter_b() -> None:
        async with b.transaction() as conn:
            await b.save_checkpoint("projection:test", 2, conn)

    async with a.transaction() as conn:
        await a.save_checkpoint("projection:test", 1, conn)
        waiting = asyncio.create_task(enter_b())
        await asyncio.sleep(0.5)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 5)
    assert await a.load_checkpoint("projection:test") == 2
