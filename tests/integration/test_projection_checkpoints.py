"""The projections' checkpoints of a batch are moved together (one statement per kind)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from adapters.readmodel.checkpoints import save_checkpoints
from adapters.store.event_store import EventStore
from adapters.store.schema import checkpoints

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 5, 18, 30, tzinfo=UTC)


async def _all(store: EventStore) -> dict[str, int]:
    async with store.engines.reader.connect() as conn:
        rows = await conn.execute(select(checkpoints.c.name, checkpoints.c.position))
        return {str(name): int(position) for name, position in rows}


async def test_known_checkpoints_move_and_new_ones_are_inserted(store: EventStore) -> None:
    """Names with a row are updated, the others inserted; names not moved stay put."""
    async with store.transaction() as conn:
        await store.save_checkpoint("projection:a", 5, conn)
        await store.save_checkpoint("projection:b", 7, conn)
        await store.save_checkpoint("projection:c", 9, conn)
    async with store.transaction() as conn:
        moved = {"projection:a": 11, "projection:b": 12, "projection:d": 13}
        await save_checkpoints(conn, moved, {"projection:a", "projection:b", "projection:c"}, NOW)
    assert await _all(store) == {
        "projection:a": 11,
        "projection:b": 12,
        "projection:c": 9,
        "projection:d": 13,
    }


async def test_existing_checkpoints_move_in_one_statement(store: EventStore) -> None:
    """Three moved checkpoints cost one UPDATE execution (executemany), not three."""
    async with store.transaction() as conn:
        for name in ("x", "y", "z"):
            await store.save_checkpoint(name, 1, conn)
    seen: list[tuple[str, bool]] = []

    def count(_conn: object, _cur: object, sql: str, _p: object, _c: object, many: bool) -> None:
        if "checkpoints" in sql:
            seen.append((sql.split(maxsplit=1)[0].upper(), many))

    sync_engine = store.engines.writer.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        async with store.transaction() as conn:
            await save_checkpoints(conn, {"x": 2, "y": 3, "z": 4}, {"x", "y", "z"}, NOW)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert seen == [("UPDATE", True)]
    assert await _all(store) == {"x": 2, "y": 3, "z": 4}


async def test_nothing_moved_writes_nothing(store: EventStore) -> None:
    """An empty batch of moves executes no statement and changes no row."""
    async with store.transaction() as conn:
        await store.save_checkpoint("kept", 3, conn)
        await save_checkpoints(conn, {}, {"kept"}, NOW)
    assert await _all(store) == {"kept": 3}
