"""Subscriptions: checkpoints join the handler's transaction; wake-ups across processes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from adapters.store.subscriptions import PgListener, SubscriptionRunner
from adapters.store.types import Expect
from events.base import NewEvent, RecordedEvent
from tests.conftest import PG_URL, drop_pg_schema, make_pg_engines
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


def new(text_: str) -> NewEvent:
    """A fresh event."""
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text=text_))


async def test_runner_hands_each_event_once_and_resumes_from_its_checkpoint(
    store: EventStore,
) -> None:
    """A second runner with the same name continues where the first stopped."""
    seen: list[str] = []

    async def handler(batch: Sequence[RecordedEvent], _conn: AsyncConnection) -> None:
        seen.extend(e.payload.text for e in batch)

    for i in range(5):
        await store.append("s", Expect.ANY, [new(str(i))])
    assert await SubscriptionRunner(store, "p", handler, batch_size=2).catch_up() == 5
    await store.append("s", Expect.ANY, [new("5")])
    assert await SubscriptionRunner(store, "p", handler).catch_up() == 1
    assert seen == ["0", "1", "2", "3", "4", "5"]


async def test_failed_handler_leaves_checkpoint_and_rows_unchanged(store: EventStore) -> None:
    """A crash inside the handler rolls back its writes and its checkpoint together."""
    await store.append("s", Expect.ANY, [new("a")])

    async def failing(_batch: Sequence[RecordedEvent], conn: AsyncConnection) -> None:
        await store.save_checkpoint("side-table-stand-in", 99, conn)
        raise RuntimeError("projection bug")

    with pytest.raises(RuntimeError):
        await SubscriptionRunner(store, "p", failing).catch_up()
    assert await store.load_checkpoint("p") == 0
    assert await store.load_checkpoint("side-table-stand-in") == 0


async def test_running_subscription_wakes_on_append_in_the_same_process(store: EventStore) -> None:
    """The in-process notifier wakes the runner long before its poll interval."""
    got = asyncio.Event()

    async def handler(batch: Sequence[RecordedEvent], _conn: AsyncConnection) -> None:
        if any(e.payload.text == "wake" for e in batch):
            got.set()

    runner = SubscriptionRunner(store, "live", handler, poll_interval=30)
    runner.start()
    try:
        await asyncio.sleep(0.05)
        await store.append("s", Expect.ANY, [new("wake")])
        await asyncio.wait_for(got.wait(), 5)
    finally:
        await runner.stop()


@pytest.mark.postgres
async def test_listen_notify_wakes_a_store_in_another_process(engines: Engines) -> None:
    """An append through one pool wakes a listener on another pool (as across processes)."""
    if engines.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    async with engines.reader.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
    other = create_engines(PG_URL, pg_schema=schema, pool_size=2)
    listening, writing = EventStore(engines), EventStore(other)
    listener = PgListener(listening)
    await listener.start()
    try:
        result = await writing.append("s", Expect.ANY, [new("x")])
        position = result.appended[0].position
        await asyncio.wait_for(listening.notifier.wait(0, 10), 5)
        for _ in range(50):
            if listening.notifier.position >= position:
                break
            await asyncio.sleep(0.02)
        assert listening.notifier.position >= position
    finally:
        await listener.stop()
        await other.dispose()


@pytest.mark.postgres
async def test_a_log_on_another_schema_of_the_database_is_not_heard(engines: Engines) -> None:
    """NOTIFY is per database: another schema's appends must not announce positions here.

    Its positions are not this log's; a partitioned follower that took one as "committed
    up to here" moved its cursors past events of its own still to come, and skipped them.
    """
    if engines.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    async with engines.reader.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
    here = create_engines(PG_URL, pg_schema=schema, pool_size=2)
    elsewhere, elsewhere_schema = await make_pg_engines()
    await migrate(elsewhere)
    listening, writing, stranger = EventStore(engines), EventStore(here), EventStore(elsewhere)
    listener = PgListener(listening)
    await listener.start()
    try:
        await stranger.append("s", Expect.ANY, [new(str(i)) for i in range(5)])
        result = await writing.append("s", Expect.ANY, [new("ours")])
        ours = result.appended[0].position
        for _ in range(250):  # NOTIFYs arrive in commit order: the stranger's would be first
            if listening.notifier.position >= ours:
                break
            await asyncio.sleep(0.02)
        assert listening.notifier.position == ours == 1
    finally:
        await listener.stop()
        await here.dispose()
        await elsewhere.dispose()
        await drop_pg_schema(elsewhere_schema)
