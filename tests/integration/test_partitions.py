"""Event partitions: the stored column, migration 14's backfill, the count's guard, and
workers sharing the partitions through advisory locks (PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from adapters.engine.dispatch import StreamDispatcher
from adapters.engine.partitions import PartitionOwner
from adapters.metrics import ServiceMetrics
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import _apply, all_migrations, migrate
from adapters.store.partitioning import check_partitions, recorded_partitions
from adapters.store.schema import schema_migrations
from adapters.store.types import Expect
from core.partitions import PartitionCountError, partition_of
from events.base import NewEvent, RecordedEvent
from tests.conftest import drop_pg_schema, make_pg_engines
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


async def put(store: EventStore, stream: str, *texts: str) -> None:
    """Append one sample event per text to ``stream``."""
    for t in texts:
        await store.append(
            stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=Noted(text=t))]
        )


async def stored_partitions(engines: Engines) -> dict[str, set[int]]:
    """Each stream's stored partitions, straight from the table."""
    found: dict[str, set[int]] = {}
    async with engines.reader.connect() as conn:
        for stream, p in await conn.execute(text("SELECT stream, partition FROM events")):
            found.setdefault(stream, set()).add(int(p))
    return found


async def test_every_appended_event_carries_its_streams_partition(engines: Engines) -> None:
    """The partition column holds partition_of(stream, 16) on every row."""
    store = EventStore(engines)
    streams = [f"conversation-39{i:08d}" for i in range(40)]
    for s in streams:
        await put(store, s, "a", "b")
    found = await stored_partitions(engines)
    assert found == {s: {partition_of(s, 16)} for s in streams}
    assert len({p for ps in found.values() for p in ps}) > 8  # the hash spreads them


async def test_reading_partitions_returns_only_their_events_in_log_order(
    engines: Engines,
) -> None:
    """read_partitions gives the owned partitions' events, by position, after the cursor."""
    store = EventStore(engines)
    for i in range(60):
        await put(store, f"s-{i % 12}", str(i))
    owned = {0, 3, 5, 9, 14}
    everything = await store.read_all_uncached(0, 1000)
    mine = await store.read_partitions(0, 1000, owned)
    assert mine == [e for e in everything if partition_of(e.stream, 16) in owned]
    later = await store.read_partitions(mine[2].position, 4, owned)
    assert later == mine[3:7]


async def test_a_different_partition_count_at_start_is_a_clear_error(engines: Engines) -> None:
    """The count is fixed per database: 32 against a 16-partition database is refused."""
    assert await check_partitions(engines, 16) == 16
    with pytest.raises(PartitionCountError, match=r"DLOOP_PARTITIONS is 32 .* into 16"):
        await check_partitions(engines, 32)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def before_14(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Engines]:
    """Engines on a database migrated up to (not including) migration 14."""
    schema: str | None = None
    if request.param == "sqlite":
        made = create_engines(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    else:
        made, schema = await make_pg_engines()
    async with made.writer.begin() as conn:
        await conn.run_sync(lambda c: schema_migrations.create(c, checkfirst=True))
        for step in all_migrations():
            if step.version < 14:
                await _apply(conn, step, made.dialect, datetime.now(UTC))
    try:
        yield made
    finally:
        await made.dispose()
        if schema is not None:
            await drop_pg_schema(schema)


async def test_migration_14_backfills_existing_rows_with_the_configured_count(
    before_14: Engines,
) -> None:
    """Rows written before migration 14 get their partition; the count 8 is recorded."""
    streams = [f"stream-{i}" for i in range(30)]
    async with before_14.writer.begin() as conn:
        for n, s in enumerate(streams, 1):
            await conn.execute(
                text(
                    "INSERT INTO events (event_id, stream, version, type, schema_version,"
                    " data, metadata, recorded_at) VALUES (:id, :s, 1, 'test.noted', 1,"
                    " '{\"text\":\"x\"}', '{}', :at)"
                ),
                {
                    "id": uuid.uuid4().hex if before_14.dialect == "sqlite" else uuid.uuid4(),
                    "s": s,
                    "at": datetime.now(UTC)
                    if before_14.dialect != "sqlite"
                    else f"2026-12-05 10:00:{n:02d}.000000",
                },
            )
    applied = await migrate(before_14, partitions=8)
    assert applied[0].version == 14  # the later steps follow it
    assert await stored_partitions(before_14) == {s: {partition_of(s, 8)} for s in streams}
    assert await recorded_partitions(before_14) == 8
    store = EventStore(before_14)  # appends after the migration use the recorded count
    await put(store, "stream-new", "y")
    assert (await stored_partitions(before_14))["stream-new"] == {partition_of("stream-new", 8)}


async def test_a_migration_asked_for_an_impossible_count_is_refused(before_14: Engines) -> None:
    """Migration 14 refuses 0 partitions with the range in the message."""
    with pytest.raises(PartitionCountError, match="between 1 and 1024, got 0"):
        await migrate(before_14, partitions=0)


# -- workers on PostgreSQL ---------------------------------------------------------------


@pytest.fixture
async def pg() -> AsyncIterator[Engines]:
    """Migrated engines on a fresh PostgreSQL schema."""
    made, schema = await make_pg_engines()
    await migrate(made)
    try:
        yield made
    finally:
        await made.dispose()
        await drop_pg_schema(schema)


@pytest.mark.postgres
async def test_two_workers_split_the_partitions_and_one_takes_all_when_the_other_dies(
    pg: Engines,
) -> None:
    """Alone a worker holds 16; a second gets 8 disjoint; closing one gives the other 16."""
    a, b = PartitionOwner(pg.writer, 16), PartitionOwner(pg.writer, 16)
    assert len(await a.rebalance()) == 16
    await b.rebalance()  # joins: the first one still holds everything
    await a.rebalance()  # sees two workers: keeps 8
    await b.rebalance()  # takes the 8 given back
    assert len(a.owned()) == 8
    assert len(b.owned()) == 8
    assert a.owned() | b.owned() == set(range(16))
    await a.stop()  # the session ends: PostgreSQL frees its locks
    assert len(await b.rebalance()) == 16
    await b.stop()


@pytest.mark.postgres
async def test_a_fair_share_is_a_ceiling_with_three_workers(pg: Engines) -> None:
    """Three workers over 16 partitions hold at most ceil(16/3) = 6 each, 16 in all."""
    owners = [PartitionOwner(pg.writer, 16) for _ in range(3)]
    for _ in range(3):
        for owner in owners:
            await owner.rebalance()
    sizes = sorted(len(o.owned()) for o in owners)
    assert max(sizes) <= 6, sizes
    assert sum(sizes) == 16, sizes
    for owner in owners:
        await owner.stop()


@pytest.mark.postgres
async def test_workers_on_other_schemas_do_not_share_locks(pg: Engines) -> None:
    """A worker of another schema on the same server holds its own 16 partitions."""
    other, schema = await make_pg_engines()
    await migrate(other)
    a, b = PartitionOwner(pg.writer, 16), PartitionOwner(other.writer, 16)
    try:
        assert len(await a.rebalance()) == 16
        assert len(await b.rebalance()) == 16
    finally:
        await a.stop()
        await b.stop()
        await other.dispose()
        await drop_pg_schema(schema)


@pytest.mark.postgres
async def test_partitioned_dispatchers_handle_every_event_once_reading_half_each(
    pg: Engines,
) -> None:
    """Two workers: each stream handled by one, every event once, each reads about half."""
    store = EventStore(pg)
    streams = [f"conversation-39{i:08d}" for i in range(32)]
    for r in range(5):
        for s in streams:
            await put(store, s, f"{s}:{r}")
    handled: Counter[str] = Counter()
    by: dict[str, set[str]] = {}

    def handler(worker: str):  # type: ignore[no-untyped-def]
        async def handle(stream: str, events: Sequence[RecordedEvent]) -> None:
            handled.update(e.payload.text for e in events)
            by.setdefault(stream, set()).add(worker)

        return handle

    a, b = PartitionOwner(pg.writer, 16), PartitionOwner(pg.writer, 16)
    for owner in (a, b, a, b):
        await owner.rebalance()
    workers = []
    for name, owner in (("a", a), ("b", b)):
        d = StreamDispatcher(store, "t", lambda e: e.type == Noted.TYPE, handler(name))
        d.follow_partitions(owner)
        workers.append(d)
    await asyncio.gather(*(d.run_until_idle() for d in workers))
    assert set(handled) == {f"{s}:{r}" for s in streams for r in range(5)}
    assert max(handled.values()) == 1
    assert all(len(w) == 1 for w in by.values())
    reads = [d.feed.read_events for d in workers if d.feed is not None]
    assert sum(reads) == len(streams) * 5
    assert min(reads) > 0
    for owner in (a, b):
        await owner.stop()


@pytest.mark.postgres
async def test_reactors_of_a_worker_holding_every_partition_share_one_read_of_the_log(
    pg: Engines,
) -> None:
    """One worker, all partitions: two reactors get the same decoded events (the shared tail)."""
    store = EventStore(pg)
    store.share_tail()
    for i in range(12):
        await put(store, f"conversation-39{i:08d}", "uno", "due")
    owner = PartitionOwner(pg.writer, 16)
    await owner.rebalance()
    assert len(owner.owned()) == owner.count
    seen: dict[str, dict[int, RecordedEvent]] = {"a": {}, "b": {}}

    def handler(name: str):  # type: ignore[no-untyped-def]
        async def handle(_stream: str, events: Sequence[RecordedEvent]) -> None:
            seen[name].update((e.position, e) for e in events)

        return handle

    for name in seen:
        d = StreamDispatcher(store, name, lambda e: e.type == Noted.TYPE, handler(name))
        d.follow_partitions(owner)
        await d.run_until_idle()
    await owner.stop()
    assert len(seen["a"]) == len(seen["b"]) == 24
    assert all(seen["a"][p] is seen["b"][p] for p in seen["a"])


@pytest.mark.postgres
async def test_a_taken_over_partition_resumes_from_its_checkpoint(pg: Engines) -> None:
    """After the first worker stops, the second handles only what came after its saves."""
    store = EventStore(pg)
    for i in range(20):
        await put(store, f"s-{i}", "before")
    first_seen: list[str] = []
    later_seen: list[str] = []

    async def first(stream: str, events: Sequence[RecordedEvent]) -> None:
        first_seen.extend(f"{stream}/{e.payload.text}" for e in events)

    async def later(stream: str, events: Sequence[RecordedEvent]) -> None:
        later_seen.extend(f"{stream}/{e.payload.text}" for e in events)

    a = PartitionOwner(pg.writer, 16)
    await a.rebalance()
    d = StreamDispatcher(store, "t", lambda e: True, first)
    d.follow_partitions(a)
    await d.run_until_idle()
    await a.stop()
    for i in range(20):
        await put(store, f"s-{i}", "after")
    b = PartitionOwner(pg.writer, 16)
    await b.rebalance()
    e = StreamDispatcher(store, "t", lambda e: True, later)
    e.follow_partitions(b)
    await e.run_until_idle()
    await b.stop()
    assert sorted(first_seen) == sorted(f"s-{i}/before" for i in range(20))
    assert sorted(later_seen) == sorted(f"s-{i}/after" for i in range(20))


@pytest.mark.postgres
async def test_shared_streams_reach_every_worker_whatever_their_partition(pg: Engines) -> None:
    """The catalogue's events go to both workers; a conversation's to its owner only."""
    store = EventStore(pg)
    for i in range(16):
        await put(store, f"conversation-{i}", "hi")
    await put(store, "catalog", "stock 1", "stock 2")
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def handler(worker: str):  # type: ignore[no-untyped-def]
        async def handle(stream: str, events: Sequence[RecordedEvent]) -> None:
            seen[worker].extend(f"{stream}/{e.payload.text}" for e in events)

        return handle

    a, b = PartitionOwner(pg.writer, 16), PartitionOwner(pg.writer, 16)
    for owner in (a, b, a, b):
        await owner.rebalance()
    workers = []
    for name, owner in (("a", a), ("b", b)):
        d = StreamDispatcher(store, "t", lambda _e: True, handler(name))
        d.follow_partitions(owner, shared=("catalog",))
        workers.append(d)
    for d in workers:
        await d.run_until_idle()
    for name in ("a", "b"):
        assert [s for s in seen[name] if s.startswith("catalog/")] == [
            "catalog/stock 1",
            "catalog/stock 2",
        ]
    talks = [s for name in ("a", "b") for s in seen[name] if s.startswith("conversation-")]
    assert sorted(talks) == sorted(f"conversation-{i}/hi" for i in range(16))
    await put(store, "catalog", "stock 3")  # later changes too, from the shared checkpoint
    for d in workers:
        await d.run_until_idle()
    assert all(seen[name][-1] == "catalog/stock 3" for name in ("a", "b"))
    for owner in (a, b):
        await owner.stop()


async def test_reading_partitions_with_shared_streams_adds_those_streams(
    engines: Engines,
) -> None:
    """read_partitions(streams=...) adds the named streams' events, in log order."""
    store = EventStore(engines)
    for i in range(30):
        await put(store, f"s-{i % 6}", str(i))
    await put(store, "catalog", "c")
    owned = {partition_of("s-0", 16)}
    everything = await store.read_all_uncached(0, 1000)
    got = await store.read_partitions(0, 1000, owned, streams=["catalog"])
    expected = [
        e for e in everything if partition_of(e.stream, 16) in owned or e.stream == "catalog"
    ]
    assert got == expected
    assert got[-1].stream == "catalog"


async def test_lag_leaves_a_reactors_global_checkpoint_once_it_has_partition_ones(
    engines: Engines,
) -> None:
    """reactor:t at 0 is superseded by reactor:t:p3; a lagging partition still counts."""
    store = EventStore(engines)
    for i in range(10):
        await put(store, f"s-{i}", "x")
    async with store.transaction() as conn:
        await store.save_checkpoint("reactor:t", 0, conn)
        await store.save_checkpoint("reactor:t:p3", 10, conn)
        await store.save_checkpoint("reactor:t:shared", 10, conn)
        await store.save_checkpoint("reactor:u", 4, conn)  # not partitioned: counted
    metrics = ServiceMetrics()
    assert await metrics.refresh_lag(store) == 6
    async with store.transaction() as conn:
        await store.save_checkpoint("reactor:t:p4", 1, conn)
    assert await metrics.refresh_lag(store) == 9
