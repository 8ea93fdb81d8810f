"""Applies pure projections to their tables, rows and checkpoint in one transaction.

For a batch of events the runner asks each projection which rows it needs, loads the
missing ones once (later events in the batch see earlier changes through a cache),
collects the upserts, and writes every changed row with ``INSERT ... ON CONFLICT DO
UPDATE`` in the subscription's transaction, beside the checkpoint.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Table, and_, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore
from adapters.store.subscriptions import BackgroundLoop, SubscriptionRunner
from events.base import RecordedEvent
from projections.base import Projection, Row, RowKey

log = structlog.get_logger(__name__)


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


class ProjectionsRunner(BackgroundLoop):
    """Keeps every projection current with ONE read and ONE transaction per batch.

    Each projection keeps its own checkpoint, read and saved inside the shared write
    transaction, so a projection never applies an event twice, even while
    ``dloop-bot rebuild`` replays one of them next to the running service. After a small
    batch the runner waits ``min_interval`` before the next, so a trickle of events is
    committed in groups instead of one fsync per event per projection.
    """

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        *,
        batch_size: int = 1000,
        min_interval: float = 0.05,
        poll_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.handlers = [
            (f"projection:{p.name}", ProjectionHandler(p, store.dialect)) for p in projections
        ]
        self.batch_size, self.min_interval, self.poll_interval = (
            batch_size,
            min_interval,
            poll_interval,
        )
        self.position = 0
        self.task_name = "projections"

    async def catch_up(self) -> int:
        """Apply everything committed so far; returns how many events were read."""
        read = 0
        while True:
            start = min(
                [await self.store.load_checkpoint(name) for name, _ in self.handlers], default=0
            )
            batch = await self.store.read_all(start, self.batch_size)
            if not batch:
                return read
            async with self.store.transaction() as conn:
                for name, handler in self.handlers:
                    done = await self.store.load_checkpoint(name, conn)
                    todo = [e for e in batch if e.position > done]
                    if todo:
                        await handler(todo, conn)
                        await self.store.save_checkpoint(name, todo[-1].position, conn)
            self.position = batch[-1].position
            read += len(batch)
            if len(batch) < self.batch_size:
                return read

    async def run_forever(self) -> None:
        """Catch up, pause briefly to gather more, wait for wake-ups; never die."""
        while True:
            try:
                if await self.catch_up():
                    await asyncio.sleep(self.min_interval)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("projections.failed", error=str(exc)[:200])
                await asyncio.sleep(self.poll_interval)
                continue
            await self.store.notifier.wait(self.position, self.poll_interval)
