"""The hash-chain sealer: the chain audit recomputes, and on SQLite one driver call per pass.

Hops are counted as calls queued on aiosqlite's connection thread (each one a wake-up of
the event loop), not as time, so the cost test cannot flake on a loaded machine.
"""

from __future__ import annotations

import uuid

import aiosqlite
import pytest
from sqlalchemy import event, select

from adapters.ops.hashchain import CHECKPOINT, HashChainSealer, event_hashes, load_verifier, seal
from adapters.ops.rawlog import pages
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from tests.support.sample_events import Noted

pytestmark = pytest.mark.integration


def _new(n: int) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text=f"note {n}"))


async def _append(store: EventStore, count: int, *, start: int = 0) -> None:
    for n in range(start, start + count):
        await store.append(f"s-{n % 3}", Expect.ANY, [_new(n)])


async def _findings(store: EventStore) -> list[tuple[str, str]]:
    last = await store.last_position()
    verifier = await load_verifier(store, last)
    assert verifier is not None
    async for page in pages(store.engines, until=last, size=7):
        await verifier.check_page(page)
    await verifier.finish()
    return verifier.findings


async def _hashes(store: EventStore) -> dict[int, str]:
    async with store.engines.reader.connect() as conn:
        rows = await conn.execute(select(event_hashes.c.position, event_hashes.c.hash))
        return {int(p): str(h) for p, h in rows}


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions queued on any aiosqlite connection's thread."""
    queued: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(
        self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object
    ) -> object:
        queued.append(getattr(fn, "__name__", type(fn).__name__))
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return queued


async def test_the_chain_sealed_in_small_passes_is_the_one_audit_recomputes(
    store: EventStore,
) -> None:
    """Passes of 4 rows, a restarted sealer (no heads in memory), new rows: audit agrees."""
    await _append(store, 10)
    assert await HashChainSealer(store, batch_size=4).catch_up() == 10
    await _append(store, 11, start=10)
    restarted = HashChainSealer(store, batch_size=4)  # a new process: heads come from the table
    assert await restarted.catch_up() == 11
    assert restarted.position == await store.last_position() == 21
    assert await store.load_checkpoint(CHECKPOINT) == 21
    assert len(await _hashes(store)) == 21
    assert await _findings(store) == []


async def test_sealing_in_one_pass_or_many_writes_the_same_hashes(store: EventStore) -> None:
    """The chain does not depend on how the rows were split into passes."""
    await _append(store, 9)
    await HashChainSealer(store, batch_size=2).catch_up()
    by_small_passes = await _hashes(store)
    async with store.transaction() as conn:
        await conn.execute(event_hashes.delete())
        await store.save_checkpoint(CHECKPOINT, 0, conn)
    assert await seal(store) == 9
    assert await _hashes(store) == by_small_passes


async def test_a_sealing_pass_is_one_call_on_the_sqlite_driver_thread(
    store: EventStore, hops: list[str]
) -> None:
    """Checkpoint, rows, chain, insert, checkpoint save and commit: one queued call (SQLite)."""
    if store.dialect != "sqlite":
        pytest.skip("aiosqlite's thread: SQLite only")
    await _append(store, 30)
    await seal(store)  # warms the pools: a first connection is opened with several calls
    await _append(store, 30, start=30)
    hops.clear()
    assert await seal(store) == 30
    assert hops.count("sqlite_seal_pass") == 1
    assert len(hops) <= 2, hops  # the pass, and the pool's rollback when the connection returns
    assert await _findings(store) == []


async def test_a_sealing_pass_takes_one_connection(store: EventStore) -> None:
    """Checkpoint, rows and writes share one connection: one pool checkout (a ping) per pass."""
    await _append(store, 12)
    await seal(store)
    await _append(store, 12, start=12)
    taken: list[object] = []

    def checkout(*_args: object) -> None:
        taken.append(_args[0])

    pools = {store.engines.writer.sync_engine.pool, store.engines.reader.sync_engine.pool}
    for pool in pools:
        event.listen(pool, "checkout", checkout)
    try:
        assert await seal(store) == 12
    finally:
        for pool in pools:
            event.remove(pool, "checkout", checkout)
    assert len(taken) == 1
    assert await _findings(store) == []
