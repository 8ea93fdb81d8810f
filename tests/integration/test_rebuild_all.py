"""``rebuild_all``: one pass over a realistic log gives exactly the live tables.

Live tables come from the service's :class:`ProjectionsRunner` in small batches; the log is
the benchmark's synthetic traffic (turns, statuses, orders, escalations, failed sends).
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import ProjectionsRunner, rebuild_all
from adapters.store.event_store import EventStore
from scripts.bench_rebuild import tables
from scripts.synthetic_log import Shape, write_log

pytestmark = pytest.mark.integration
SHAPE = Shape(order_share=0.3, escalation_share=0.1, failure_share=0.1, window=40)


async def live_tables(store: EventStore, events: int) -> dict[str, list[dict[str, object]]]:
    """Write the log and project it the way the service does, in small batches."""
    assert await write_log(store, events, shape=SHAPE) == events
    await ProjectionsRunner(store, all_projections(), batch_size=97).catch_up()
    live = await tables(store)
    assert all(live[name] for name in ("whatsapp_conversations", "whatsapp_messages"))
    assert live["whatsapp_order_relays"]
    assert live["review_queue"]
    return live


async def test_one_pass_rebuild_equals_the_live_tables(store: EventStore) -> None:
    """Default chunking: every table row for row as the live runner left it."""
    live = await live_tables(store, 3000)
    reports = await rebuild_all(store, all_projections())
    assert await tables(store) == live
    assert {r.rows for r in reports if r.projection == "whatsapp_messages"} == {
        len(live["whatsapp_messages"])
    }


async def test_small_chunks_and_a_dropped_cache_still_equal_the_live_tables(
    store: EventStore,
) -> None:
    """Rows reloaded after the cache is dropped continue where they left off."""
    live = await live_tables(store, 3000)
    await rebuild_all(store, all_projections(), chunk=150, cache_rows=50)
    assert await tables(store) == live


async def test_a_rebuild_next_to_a_live_runner_applies_nothing_twice(store: EventStore) -> None:
    """A live runner moving the checkpoints meanwhile: the rebuild hands over, counts stay right."""
    live = await live_tables(store, 2000)
    runner = ProjectionsRunner(store, all_projections(), batch_size=50)

    async def keep_up() -> None:
        for _ in range(40):
            await runner.catch_up()
            await asyncio.sleep(0)

    await asyncio.gather(rebuild_all(store, all_projections(), chunk=100), keep_up())
    await runner.catch_up()
    assert await tables(store) == live


async def test_a_second_rebuild_changes_nothing(store: EventStore) -> None:
    """Rebuilding twice gives the same tables (idempotent by natural keys)."""
    await live_tables(store, 1000)
    await rebuild_all(store, all_projections())
    first = await tables(store)
    await rebuild_all(store, all_projections())
    assert await tables(store) == first
