"""Applies pure projections to their tables, rows and checkpoint in one transaction.

For a batch of events the runner asks each projection which rows it needs, loads the
missing ones once (later events in the batch see earlier changes through a cache),
collects the upserts, and writes every changed row with ``INSERT ... ON CONFLICT DO
UPDATE`` in the subscription's transaction, beside the checkpoint.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.progress import Progress, silent
from adapters.readmodel.checkpoints import save_checkpoints
from adapters.readmodel.schema_who import compact_search_index
from adapters.readmodel.tables import TABLES
from adapters.readmodel.who import carry_names, identify
from adapters.store.event_store import EventStore
from adapters.store.people import People
from adapters.store.schema import checkpoints, events
from adapters.store.subscriptions import BackgroundLoop, SubscriptionRunner
from events.base import RecordedEvent
from projections.base import Projection, Row, RowKey

log = structlog.get_logger(__name__)


class ProjectionHandler:
    """A subscription handler for one projection."""

    def __init__(self, projection: Projection, dialect: str, people: People) -> None:
        self.projection = projection
        self.dialect = dialect
        self.people = people

    async def __call__(self, batch: Sequence[RecordedEvent], conn: AsyncConnection) -> None:
        """Project ``batch`` and write the changed rows with ``conn``.

        The rows the batch needs are loaded up front (one query per table), and the
        changed rows written with one executemany per table and column set: a few
        statements per batch instead of two per row, inside the writer's transaction.
        """
        cache: dict[RowKey, Row | None] = {}
        await _load_many(conn, _missing([self.projection], batch, cache), cache)
        dirty: dict[RowKey, Row] = {}
        for event in batch:
            keys = self.projection.needs(event)
            if not keys:
                continue
            for change in self.projection.project(event, {k: cache[k] for k in keys}):
                cache[change.key] = change.values
                dirty[change.key] = change.values
        await _write_rows(conn, self.dialect, await identify(conn, self.people, dirty))


async def _load(conn: AsyncConnection, key: RowKey) -> Row | None:
    table = TABLES[key.table]
    stmt = select(table).where(and_(*(table.c[col] == val for col, val in key.key)))
    row = (await conn.execute(stmt)).mappings().first()
    return dict(row) if row is not None else None


def runner_for(store: EventStore, projection: Projection, **options: Any) -> SubscriptionRunner:
    """A subscription named after the projection that keeps its tables current."""
    handler = ProjectionHandler(projection, store.dialect, store.people)
    return SubscriptionRunner(store, f"projection:{projection.name}", handler, **options)


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    projection: str
    events: int
    rows: int
    seconds: float


REBUILD_CHUNK = 20_000  # events read, projected and written per transaction
REBUILD_CACHE_ROWS = 500_000  # rows kept in memory between chunks before the cache is dropped
_IN_LIMIT = 500  # keys per ``IN (...)`` when rows must be reloaded


class _Interleaved(Exception):  # noqa: N818 - a private signal, not an error for callers
    """Someone else moved a checkpoint: the in-memory rows may be stale."""


async def rebuild(store: EventStore, projection: Projection) -> RebuildReport:
    """Empty the projection's tables, reset its checkpoint and replay from position 0."""
    [report] = await rebuild_all(store, [projection])
    return report


async def rebuild_all(
    store: EventStore,
    projections: Sequence[Projection],
    *,
    chunk: int = REBUILD_CHUNK,
    cache_rows: int = REBUILD_CACHE_ROWS,
    progress: Progress = silent,
) -> list[RebuildReport]:
    """Empty the tables of ``projections`` and replay the log into them in ONE pass.

    The tables start empty, so a row not yet seen does not exist: rows live in memory
    between chunks (no read per event), each chunk of ``chunk`` events is read once for
    every projection, and its changed rows are written with one multi-row upsert per table
    and column set, beside every checkpoint, in one transaction. Above ``cache_rows`` rows
    the cache is dropped and rows are reloaded in batches when next needed. Only events of
    the projections' ``event_types`` are read and decoded (raw webhooks are not).

    If another runner (a live service) moves one of these checkpoints meanwhile, the
    in-memory rows may be stale: the chunk is rolled back and the rebuild finishes with a
    :class:`ProjectionsRunner`, which reads rows and checkpoints inside its transactions.
    Either way the tables end equal to the live ones. The cyclic garbage collector is
    paused meanwhile (see the comment below). ``progress`` hears the position reached after
    each chunk, out of the last position when the rebuild began.
    """
    # The row cache holds hundreds of thousands of dicts: the cyclic GC would walk them
    # again and again (a third of the CPU time at 300k events) and free nothing, since
    # rows hold no reference cycles. It is off for the rebuild and restored after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _rebuild_all(store, projections, chunk, cache_rows, progress)
    finally:
        if collecting:
            gc.enable()


async def _rebuild_all(
    store: EventStore,
    projections: Sequence[Projection],
    chunk: int,
    cache_rows: int,
    progress: Progress,
) -> list[RebuildReport]:
    started = time.perf_counter()
    last = await store.last_position()
    names = [f"projection:{p.name}" for p in projections]
    async with store.transaction() as conn:
        for projection in projections:
            for name in projection.tables:
                await conn.execute(delete(TABLES[name]))
        for name in names:
            await store.save_checkpoint(name, 0, conn)
    types = frozenset().union(*(p.event_types for p in projections))
    cache: dict[RowKey, Row | None] = {}
    cold = False  # True once the cache was dropped: a missing key may exist in the table
    position = 0
    try:
        while batch := await store.read_all_uncached(position, chunk, types=types):
            if cold:
                await _reload(store, _missing(projections, batch, cache), cache)
            dirty = _project_chunk(projections, batch, cache)
            async with store.transaction() as conn:
                for name in names:
                    if await store.load_checkpoint(name, conn) != position:
                        raise _Interleaved
                await _write_rows(conn, store.dialect, await identify(conn, store.people, dirty))
                for name in names:
                    await store.save_checkpoint(name, batch[-1].position, conn)
            position = batch[-1].position
            progress(min(position, last), last)
            if len(cache) > cache_rows:
                cache.clear()
                cold = True
            if len(batch) < chunk:
                break
        progress(last, last)
    except _Interleaved:
        log.info("rebuild.interleaved", position=position)
        await ProjectionsRunner(store, projections, batch_size=2000).catch_up()
    if any("whatsapp_conversations" in p.tables for p in projections):
        async with store.transaction() as conn:
            await compact_search_index(conn)  # no terms of deleted rows left (erasure)
    seconds = time.perf_counter() - started
    reports = []
    async with store.engines.reader.connect() as conn:
        handled = int((await conn.execute(select(func.count()).select_from(events))).scalar() or 0)
        for projection in projections:
            rows = 0
            for name in projection.tables:
                count = select(func.count()).select_from(TABLES[name])
                rows += int((await conn.execute(count)).scalar() or 0)
            reports.append(RebuildReport(projection.name, handled, rows, seconds))
    return reports


def _project_chunk(
    projections: Sequence[Projection],
    batch: Sequence[RecordedEvent],
    cache: dict[RowKey, Row | None],
) -> dict[RowKey, Row]:
    """Apply ``batch`` to the cached rows; the rows it changed (last values).

    The whole cache is handed over as the current rows: projections read the rows they
    declare with ``current.get`` (a row not cached does not exist yet), which spares a
    ``needs`` call per event and projection.
    """
    dirty: dict[RowKey, Row] = {}
    for event in batch:
        for projection in projections:
            for change in projection.project(event, cache):
                cache[change.key] = change.values
                dirty[change.key] = change.values
    return dirty


def _missing(
    projections: Sequence[Projection],
    batch: Sequence[RecordedEvent],
    cache: dict[RowKey, Row | None],
) -> set[RowKey]:
    return {k for e in batch for p in projections for k in p.needs(e) if k not in cache}


async def _reload(store: EventStore, keys: set[RowKey], cache: dict[RowKey, Row | None]) -> None:
    """Load ``keys`` into ``cache`` (None for rows that do not exist), batched by table."""
    async with store.engines.reader.connect() as conn:
        await _load_many(conn, keys, cache)


async def _load_many(
    conn: AsyncConnection, keys: set[RowKey], cache: dict[RowKey, Row | None]
) -> None:
    """:func:`_reload` on ``conn`` (the live handler's write transaction)."""
    by_shape: dict[tuple[str, tuple[str, ...]], list[RowKey]] = defaultdict(list)
    for key in keys:
        cache[key] = None
        by_shape[(key.table, tuple(c for c, _ in key.key))].append(key)
    for (table_name, columns), wanted in by_shape.items():
        table = TABLES[table_name]
        if len(columns) != 1:
            for key in wanted:
                cache[key] = await _load(conn, key)
            continue
        [column] = columns
        for start in range(0, len(wanted), _IN_LIMIT):
            values = [k.key[0][1] for k in wanted[start : start + _IN_LIMIT]]
            stmt = select(table).where(table.c[column].in_(values))
            for row in (await conn.execute(stmt)).mappings():
                cache[RowKey.of(table_name, **{column: row[column]})] = dict(row)


async def _write_rows(conn: AsyncConnection, dialect: str, dirty: dict[RowKey, Row]) -> None:
    """Upsert ``dirty`` with one executemany per (table, key columns, column set)."""
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]]
    groups = defaultdict(list)
    for key, values in dirty.items():
        table = TABLES[key.table]
        row = {c: v for c, v in values.items() if c in table.c}
        groups[(key.table, tuple(c for c, _ in key.key), tuple(sorted(row)))].append(row)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for (table_name, key_columns, columns), rows in groups.items():
        stmt = insert(TABLES[table_name])
        updates = {c: stmt.excluded[c] for c in columns if c not in key_columns}
        upsert = stmt.on_conflict_do_update(index_elements=list(key_columns), set_=updates)
        await conn.execute(upsert, rows)
    await carry_names(conn, dirty)


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
            (f"projection:{p.name}", ProjectionHandler(p, store.dialect, store.people))
            for p in projections
        ]
        self.batch_size, self.min_interval, self.poll_interval = (
            batch_size,
            min_interval,
            poll_interval,
        )
        self.position = 0
        self._known: dict[str, int] | None = None  # the checkpoints as last seen or saved
        self.task_name = "projections"

    async def catch_up(self) -> int:
        """Apply everything committed so far; returns how many events were read.

        The checkpoints are kept in memory between passes (``_known``): a pass reads them
        only inside its write transaction, where they decide what each projection applies
        (someone else, a rebuild, may have moved them). They are read outside a
        transaction only on the first pass, after a failure, and when nothing is left
        after the kept ones (so a checkpoint moved back is noticed then too).
        """
        try:
            return await self._catch_up()
        except BaseException:
            self._known = None  # the transaction may not have committed: read them again
            raise

    async def _catch_up(self) -> int:
        read = 0
        while True:
            if self._known is None:
                self._known = await self._stored_checkpoints()
            start = min(self._known.values(), default=0)
            batch = await self.store.read_all(start, self.batch_size)
            if not batch:
                stored = await self._stored_checkpoints()
                if stored == self._known:
                    return read
                self._known = stored  # moved by someone else meanwhile: go on from there
                continue
            moved_back = False
            async with self.store.transaction() as conn:
                found = await self._found_checkpoints(conn)
                moved: dict[str, int] = {}
                for name, handler in self.handlers:
                    done = found.get(name, 0)
                    if done < start:  # a rebuild reset it since: this batch would skip events
                        moved_back = True
                        continue
                    todo = [e for e in batch if e.position > done]
                    if todo:
                        await handler(todo, conn)
                        moved[name] = todo[-1].position
                await save_checkpoints(conn, moved, found, self.store.now())
            self._known = {n: moved.get(n, found.get(n, 0)) for n, _ in self.handlers}
            self.position = batch[-1].position
            read += len(batch)
            if len(batch) < self.batch_size and not moved_back:
                return read

    async def _stored_checkpoints(self) -> dict[str, int]:
        async with self.store.engines.reader.connect() as conn:
            return await self._checkpoints(conn)

    async def _checkpoints(self, conn: AsyncConnection) -> dict[str, int]:
        """Every handler's checkpoint (0 when new) in one query, not one per projection."""
        found = await self._found_checkpoints(conn)
        return {name: found.get(name, 0) for name, _ in self.handlers}

    async def _found_checkpoints(self, conn: AsyncConnection) -> dict[str, int]:
        """The handlers' checkpoints that have a row, in one query."""
        c = checkpoints.c
        stmt = select(c.name, c.position).where(c.name.in_([n for n, _ in self.handlers]))
        return {str(name): int(position) for name, position in await conn.execute(stmt)}

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
