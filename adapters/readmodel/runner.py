"""Applies pure projections to their tables, rows and checkpoint in one transaction.

For a batch of events the runner asks each projection which rows it needs, loads the
missing ones once (later events in the batch see earlier changes through a cache),
collects the upserts, and writes every changed row with ``INSERT ... ON CONFLICT DO
UPDATE`` in the subscription's transaction, beside the checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore
from adapters.store.subscriptions import SubscriptionRunner
from events.base import RecordedEvent
from projections.base import Projection, Row, RowKey


class ProjectionHandler:
    """A subscription handler for one projection."""

    def __init__(self, projection: Projection, dialect: str) -> None:
        self.projection = projection
        self.dialect = dialect

    async def __call__(self, batch: Sequence[RecordedEvent], conn: AsyncConnection) -> None:
        """Project ``batch`` and write the changed rows with ``conn``."""
        cache: dict[RowKey, Row | None] = {}
        dirty: dict[RowKey, Row] = {}
        for event in batch:
            keys = self.projection.needs(event)
            if not keys:
                continue
            for key in keys:
                if key not in cache:
                    cache[key] = await _load(conn, key)
            for change in self.projection.project(event, {k: cache[k] for k in keys}):
                cache[change.key] = change.values
                dirty[change.key] = change.values
        for key, values in dirty.items():
            await _upsert(conn, self.dialect, key, values)


async def _load(conn: AsyncConnection, key: RowKey) -> Row | None:
    table = TABLES[key.table]
    stmt = select(table).where(and_(*(table.c[col] == val for col, val in key.key)))
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


async def _upsert(conn: AsyncConnection, dialect: str, key: RowKey, values: Row) -> None:
    table = TABLES[key.table]
    columns = {c: v for c, v in values.items() if c in table.c}
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(**columns)
    updates = {c: stmt.excluded[c] for c in columns if c not in dict(key.key)}
    stmt = stmt.on_conflict_do_update(index_elements=[c for c, _ in key.key], set_=updates)
    await conn.execute(stmt)


def runner_for(store: EventStore, projection: Projection, **options: Any) -> SubscriptionRunner:
    """A subscription named after the projection that keeps its tables current."""
    handler = ProjectionHandler(projection, store.dialect)
    return SubscriptionRunner(store, f"projection:{projection.name}", handler, **options)


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    projection: str
    events: int
    rows: int
    seconds: float


async def rebuild(store: EventStore, projection: Projection) -> RebuildReport:
    """Empty the projection's tables, reset its checkpoint and replay from position 0."""
    started = time.perf_counter()
    async with store.transaction() as conn:
        for name in projection.tables:
            await conn.execute(delete(TABLES[name]))
        await store.save_checkpoint(f"projection:{projection.name}", 0, conn)
    handled = await runner_for(store, projection, batch_size=2000).catch_up()
    rows = 0
    async with store.engines.reader.connect() as conn:
        for name in projection.tables:
            rows += len((await conn.execute(select(_pk(TABLES[name])))).all())
    return RebuildReport(projection.name, handled, rows, time.perf_counter() - started)


def _pk(table: Table) -> Any:
    return next(iter(table.primary_key.columns))
