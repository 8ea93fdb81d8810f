"""No reader skips an event that commits late, with many concurrent writers (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.types import AppendRequest, Expect
from events.base import NewEvent
from tests.conftest import PG_URL
from tests.support.sample_events import Noted

pytestmark = [pytest.mark.integration]

WRITERS = 8
PER_WRITER = 60


async def _slow_raw_writer(engines: Engines, writer: int, ids: list[uuid.UUID]) -> None:
    """Inserts with plain SQL (no explicit lock) and holds each transaction open a while."""
    rng = random.Random(writer)
    for i, eid in enumerate(ids):
        async with engines.writer.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO events (event_id, stream, version, type, schema_version,"
                    " data, metadata, recorded_at) VALUES (:id, :s, :v, 'test.noted', 1,"
                    " :d, '{}', :at)"
                ),
                {
                    "id": eid,
                    "s": f"w{writer}",
                    "v": i + 1,
                    "d": json.dumps({"text": str(i)}),
                    "at": datetime.now(UTC),
                },
            )
            await asyncio.sleep(rng.uniform(0, 0.004))


async def _follow(store: EventStore, done: asyncio.Event) -> list[int]:
    """Tail the log like a subscription: read after the last seen position until told to stop."""
    seen: list[int] = []
    while True:
        finished = done.is_set()
        batch = await store.read_all(seen[-1] if seen else 0, 1000)
        seen.extend(e.position for e in batch)
        if finished and not batch:
            return seen
        await asyncio.sleep(0.001)


async def _check_follower(engines: Engines, writers: list[asyncio.Task[None]], total: int) -> None:
    store = EventStore(engines)
    done = asyncio.Event()
    follower = asyncio.create_task(_follow(store, done))
    await asyncio.gather(*writers)
    done.set()
    seen = await follower
    everything = [e.position for e in await store.read_all(0, total * 2)]
    assert len(everything) == total
    assert seen == everything, "the follower skipped or repeated events"


@pytest.mark.postgres
async def test_follower_misses_nothing_under_concurrent_raw_inserts(engines: Engines) -> None:
    """The statement trigger serialises even writers that bypass the store's code."""
    if engines.dialect != "postgresql":
        pytest.skip("SQLite has a single writer; the race exists only on PostgreSQL")
    ids = [[uuid.uuid4() for _ in range(PER_WRITER)] for _ in range(WRITERS)]
    writers = [asyncio.create_task(_slow_raw_writer(engines, w, ids[w])) for w in range(WRITERS)]
    await _check_follower(engines, writers, WRITERS * PER_WRITER)


async def _store_writer(store: EventStore, writer: int) -> None:
    for i in range(PER_WRITER):
        await store.append(
            f"w{writer}", Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=Noted(text=str(i)))]
        )


async def test_follower_misses_nothing_with_writers_on_separate_engines(engines: Engines) -> None:
    """Several stores (separate pools, as separate processes would be) append concurrently."""
    url = PG_URL if engines.dialect == "postgresql" else str(engines.writer.url)
    schema = None
    if engines.dialect == "postgresql":
        async with engines.reader.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
    others = [create_engines(url, pg_schema=schema, pool_size=2) for _ in range(4)]
    try:
        stores = [EventStore(e) for e in others]
        writers = [asyncio.create_task(_store_writer(stores[w % 4], w)) for w in range(WRITERS)]
        await _check_follower(engines, writers, WRITERS * PER_WRITER)
    finally:
        for e in others:
            await e.dispose()


async def test_follower_misses_nothing_with_group_committers_racing_on_one_stream(
    engines: Engines,
) -> None:
    """Four stores' group committers append to ONE stream: their one-statement inserts
    collide and are redone under the lock, and the stream stays gap-free in log order."""
    url = PG_URL if engines.dialect == "postgresql" else str(engines.writer.url)
    schema = None
    if engines.dialect == "postgresql":
        async with engines.reader.connect() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar()
    others = [create_engines(url, pg_schema=schema, pool_size=2) for _ in range(4)]
    committers = [GroupCommitter(EventStore(e)) for e in others]
    for committer in committers:
        await committer.start()

    async def produce(writer: int) -> None:
        for i in range(PER_WRITER):
            event = NewEvent(event_id=uuid.uuid4(), payload=Noted(text=f"{writer}.{i}"))
            await committers[writer % 4].append([AppendRequest("shared", Expect.ANY, [event])])

    try:
        writers = [asyncio.create_task(produce(w)) for w in range(WRITERS)]
        await _check_follower(engines, writers, WRITERS * PER_WRITER)
    finally:
        for committer in committers:
            await committer.close()
        for e in others:
            await e.dispose()
    stored = await EventStore(engines).read_stream("shared")
    assert [e.version for e in stored] == list(range(1, WRITERS * PER_WRITER + 1))
    assert [e.position for e in stored] == sorted(e.position for e in stored)
