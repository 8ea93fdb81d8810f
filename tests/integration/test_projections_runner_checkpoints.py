"""The projections runner keeps its checkpoints in memory, and still obeys the stored ones.

During a burst each pass reads the checkpoints once, inside its write transaction (where
they decide what each projection applies); a checkpoint moved back by someone else (a
rebuild's reset) is noticed by the next pass, busy or quiet.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event

from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import ProjectionsRunner
from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore
from scripts.bench_rebuild import tables
from scripts.synthetic_log import Shape, write_log

pytestmark = pytest.mark.integration
SHAPE = Shape(order_share=0.3, escalation_share=0.1, failure_share=0.1, window=40)


async def _reset(store: EventStore, name: str) -> None:
    """What a rebuild's first transaction does to one projection: empty tables, position 0."""
    [projection] = [p for p in all_projections() if p.name == name]
    async with store.transaction() as conn:
        for table in projection.tables:
            await conn.execute(delete(TABLES[table]))
        await store.save_checkpoint(f"projection:{name}", 0, conn)


async def test_a_pass_reads_the_checkpoints_once_inside_its_transaction(
    store: EventStore,
) -> None:
    """After the first pass, a pass of new events reads ``checkpoints`` once, not twice."""
    await write_log(store, 200, shape=SHAPE)
    runner = ProjectionsRunner(store, all_projections())
    assert await runner.catch_up() == 200
    written = await write_log(store, 100, seed=8, shape=SHAPE)  # some ids repeat seed 7's
    assert written > 20
    reads: list[str] = []

    def count(_conn: object, _cur: object, sql: str, _p: object, _c: object, _m: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM checkpoints" in sql:
            reads.append(sql)

    engines = {store.engines.writer.sync_engine, store.engines.reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        assert await runner.catch_up() == written
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    assert len(reads) == 1


async def test_a_checkpoint_moved_back_while_quiet_is_replayed(store: EventStore) -> None:
    """A reset after the runner caught up (no new events): the next pass rebuilds it."""
    await write_log(store, 600, shape=SHAPE)
    runner = ProjectionsRunner(store, all_projections(), batch_size=100)
    await runner.catch_up()
    live = await tables(store)
    await _reset(store, "whatsapp_conversations")
    assert (await tables(store))["whatsapp_conversations"] == []
    await runner.catch_up()
    assert await tables(store) == live


async def test_a_checkpoint_moved_back_during_traffic_is_replayed(store: EventStore) -> None:
    """A reset, then new events: the pass's own read in the transaction sends it back."""
    await write_log(store, 400, shape=SHAPE)
    runner = ProjectionsRunner(store, all_projections(), batch_size=100)
    await runner.catch_up()
    await _reset(store, "whatsapp_messages")
    written = await write_log(store, 200, seed=8, shape=SHAPE)
    assert written > 20
    assert await runner.catch_up() >= written
    after_traffic = await tables(store)
    fresh = ProjectionsRunner(store, all_projections())
    for projection in all_projections():
        await _reset(store, projection.name)
    await fresh.catch_up()
    assert await tables(store) == after_traffic
