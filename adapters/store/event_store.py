"""The append-only event log on SQLAlchemy async Core (SQLite and PostgreSQL).

Ordering guarantee (docs/adr/0001-event-ordering.md): on PostgreSQL every append
transaction takes one transaction-scoped advisory lock before positions are handed out
(by a statement trigger so no code path can skip it, and explicitly where the checks
must run under it: ADR 0035) and holds it until commit. Position order therefore equals
commit order, and a reader following ``position > checkpoint`` never skips an event that
commits late. SQLite has one writer.

Idempotency: an event whose ``event_id`` is already stored is not written again and is
reported in ``AppendResult.duplicates``; this holds inside a batch that mixes new and
known ids.

Speed (docs/benchmarks.md): payloads are encoded before the transaction starts (by the
group committer, in the caller's coroutine). On SQLite a whole append transaction
(``BEGIN IMMEDIATE``, lookup, insert, ``COMMIT``) runs as ONE call on the writer
connection's driver thread instead of a thread hop per statement. On PostgreSQL it is
two round trips (the lookup, then one insert statement that the trigger serialises) on
the connection the group committer keeps (ADR 0035). Reads fetch a page in one driver
call; rows are then decoded without SQLAlchemy's per-column processing.

Where the parts live: encoding and planning of appends in :mod:`adapters.store.encoding`,
the drivers' append statements in :mod:`adapters.store.append_sql`, decoding of rows in
:mod:`adapters.store.decoding`; this module keeps the store and its public names.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.append_link import AppendLink, commit_pooled
from adapters.store.append_sql import driver_connection, in_driver_thread, one_line, sqlite_commit
from adapters.store.decoding import decode_rows, gc_paused, loads, sealed_people_of
from adapters.store.encoding import (
    EncodedRequest,
    EncodedUnit,
    Outcome,
    encode_request,
    fill_positions,
    stream_person,
)
from adapters.store.engine import Engines
from adapters.store.migrations import READ_SIDE_LOCK_KEY
from adapters.store.notify import Notifier
from adapters.store.partitioning import recorded_partitions
from adapters.store.people import DbKeyStore, KeyStore, People
from adapters.store.schema import checkpoints, events
from adapters.store.tail_cache import TailCache
from adapters.store.types import (
    AppendRequest,
    AppendResult,
    ExpectedVersion,
    StoreUnavailableError,
)
from adapters.store.write_turn import write_turn
from core.partitions import PartitionCountError
from events.base import NewEvent, RecordedEvent

# The store's public API, as before the encoding, decoding and driver statements moved out.
__all__ = [
    "STORE_ERRORS",
    "EncodedRequest",
    "EncodedUnit",
    "EventStore",
    "driver_connection",
    "gc_paused",
    "loads",
    "stream_person",
]

_PG_READ_SIDE_LOCK = f"SELECT pg_advisory_xact_lock({READ_SIDE_LOCK_KEY})"
_SELECT = (
    "SELECT position, event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at FROM events"
)
_SQLITE_READ_ALL = _SELECT + " WHERE position > ? ORDER BY position LIMIT ?"
_PG_READ_ALL = _SELECT + " WHERE position > $1 ORDER BY position LIMIT $2"
_PG_READ_ALL_OF_TYPES = (
    _SELECT + " WHERE position > $1 AND type = ANY($2::text[]) ORDER BY position LIMIT $3"
)
_PG_READ_PARTITIONS = (
    _SELECT
    + " WHERE (partition = ANY($2::smallint[]) OR stream = ANY($4::text[])) AND position > $1"
    " ORDER BY position LIMIT $3"
)
_SQLITE_READ_STREAM = _SELECT + " WHERE stream = ? AND version > ? ORDER BY version"
_PG_READ_STREAM = _SELECT + " WHERE stream = $1 AND version > $2 ORDER BY version"
_DB_ERRORS = (OperationalError, DBAPIError, sqlite3.Error, OSError)
# What a database that is down or unreachable raises, through SQLAlchemy or a raw driver.
STORE_ERRORS: tuple[type[BaseException], ...] = (
    *_DB_ERRORS,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class _Committer(Protocol):
    """What :meth:`EventStore.route_appends` needs of a group committer."""

    @property
    def running(self) -> bool: ...

    async def append(self, unit: Sequence[AppendRequest]) -> list[AppendResult]: ...


class EventStore:
    """Append, read and checkpoint; see the module docstring for the guarantees."""

    def __init__(
        self,
        engines: Engines,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keys: KeyStore | None = None,
    ) -> None:
        self.engines = engines
        # Person ids and their keys (docs/adr/0007-crypto-shredding.md): personal fields
        # are sealed on the way in and opened on the way out, here and nowhere else.
        self.people = People(keys if keys is not None else DbKeyStore(engines))
        self.dialect = engines.dialect
        self._sqlite = engines.dialect == "sqlite"
        self._turn = write_turn(engines.writer.url.database) if self._sqlite else None
        self._clock = clock
        self.notifier = Notifier()
        self._committer: _Committer | None = None
        self._link: AppendLink | None = None  # PostgreSQL: see keep_append_connection
        self._tail: TailCache | None = None
        self._partition_count: int | None = None
        self.on_forget: list[Callable[[], None]] = []  # other caches of decoded events

    # -- writing -----------------------------------------------------------------------

    def route_appends(self, committer: _Committer | None) -> None:
        """Send :meth:`append` through ``committer`` (group commit) while it runs.

        Every writer in the process (webhooks, reactors, the outbox) then shares batched
        transactions instead of queueing for the one SQLite writer connection with a
        transaction and an fsync each.
        """
        self._committer = committer

    async def append(
        self, stream: str, expected: ExpectedVersion, new_events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append ``new_events`` to ``stream`` atomically (grouped with others when routed)."""
        request = AppendRequest(stream, expected, new_events)
        if self._committer is not None and self._committer.running:
            [result] = await self._committer.append([request])
            return result
        [outcome] = await self.commit_units([[request]])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome[0]

    def encode_unit(self, unit: Sequence[AppendRequest]) -> EncodedUnit:
        """``unit`` with every payload and metadata encoded to the stored JSON text.

        Pure CPU work that needs no connection: the group committer does it in each
        caller's coroutine, while the writer is busy with the previous batch. Raises
        :class:`~events.codec.EncodeError` for a payload that cannot be stored.
        """
        memo: dict[int, str] = {}  # metadata JSON by object: facts often share one
        # A raw delivery is sealed for every person whose stream its unit feeds.
        unit_people = tuple(sorted({p for r in unit if (p := stream_person(r.stream))}))
        return tuple(encode_request(r, self._sqlite, memo, self.people, unit_people) for r in unit)

    async def prepare_unit(self, unit: Sequence[AppendRequest]) -> None:
        """Load the keys :meth:`encode_unit` needs for ``unit`` (those not in memory yet)."""
        people = [p for r in unit if (p := stream_person(r.stream))]
        people += [p for r in unit for p in r.sealed_with]
        if people and self.people.needs_load(people):
            await self.people.load(people)

    async def commit_units(self, units: Sequence[Sequence[AppendRequest]]) -> list[Outcome]:
        """Commit several all-or-nothing units in ONE transaction (group commit).

        A unit whose version expectation fails gets its ``StreamVersionConflictError`` and
        writes nothing; the other units are still committed. A database failure fails
        every unit of this call with :class:`StoreUnavailableError`.
        """
        for unit in units:
            await self.prepare_unit(unit)
        return await self.commit_encoded([self.encode_unit(u) for u in units])

    async def commit_encoded(self, units: Sequence[EncodedUnit]) -> list[Outcome]:
        """:meth:`commit_units` for units already passed through :meth:`encode_unit`."""
        recorded_at = self._recorded_at(self._clock())
        try:
            count = await self.partition_count()
            if self._sqlite:
                outcomes, positions = await self._commit_sqlite(units, recorded_at, count)
            else:
                outcomes, positions = await self._commit_pg(units, recorded_at, count)
        except (*_DB_ERRORS, PartitionCountError) as exc:
            error = StoreUnavailableError(f"event store write failed: {one_line(exc)}")
            return [error for _ in units]
        if positions:
            self.notifier.notify(positions[-1])
        return fill_positions(outcomes, positions)

    async def partition_count(self) -> int:
        """The database's partition count (recorded by migration 14), read once."""
        if self._partition_count is None:
            self._partition_count = await recorded_partitions(self.engines)
        return self._partition_count

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A read-side write transaction: one at a time per database.

        SQLite: BEGIN IMMEDIATE on the process's one writer connection. PostgreSQL: the
        read-side advisory lock, NOT the append lock: a projection batch holds its
        transaction over many round trips (up to seconds under load), and holding the
        append lock meanwhile stalled every webhook of every process behind it. Appends
        still serialise among themselves (the events trigger takes the append lock for
        any INSERT, here too).
        """
        async with self.engines.writer.begin() as conn:
            if self.dialect == "postgresql":
                await conn.exec_driver_sql(_PG_READ_SIDE_LOCK)
            yield conn

    def _recorded_at(self, now: datetime) -> Any:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        if self._sqlite:  # SQLAlchemy's storage format for SQLite: naive UTC text
            return now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return now

    async def _commit_sqlite(
        self, units: Sequence[EncodedUnit], recorded_at: str, count: int
    ) -> tuple[list[Any], Sequence[int]]:
        # The writer engine's single pooled connection, so the one-writer rule holds for
        # every transaction in the process, ours and those opened with transaction().
        async with self.engines.writer.connect() as conn:
            driver = await driver_connection(conn)
            done: tuple[list[Any], range] = await in_driver_thread(
                driver, sqlite_commit, units, recorded_at, count, self._turn
            )
        return done

    @asynccontextmanager
    async def keep_append_connection(self) -> AsyncIterator[None]:
        """While open, PostgreSQL appends reuse one kept connection (the group committer's).

        No pool checkout and ping per commit (``adapters.store.append_link``); an append
        made while that connection is busy checks one out as before."""
        if self._sqlite:  # one pooled writer connection, shared with transaction()
            yield
            return
        self._link = link = AppendLink(self.engines.writer)
        try:
            yield
        finally:
            self._link = None
            await link.close()

    async def _commit_pg(
        self, units: Sequence[EncodedUnit], recorded_at: datetime, count: int
    ) -> tuple[list[Any], Sequence[int]]:
        link = self._link
        if link is not None and not link.busy:
            return await link.commit(units, recorded_at, count)
        return await commit_pooled(self.engines.writer, units, recorded_at, count)

    # -- reading -----------------------------------------------------------------------

    async def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """The events of ``stream`` in version order (after ``after_version``)."""
        sql = _SQLITE_READ_STREAM if self._sqlite else _PG_READ_STREAM
        return await self._read(sql, (stream, after_version))

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events with position greater than ``after_position``, in order.

        Served from the shared tail cache when :meth:`share_tail` turned it on (the
        service does: all its followers of the log then share reads and decoding).
        """
        if self._tail is not None:
            return await self._tail.read_all(after_position, limit)
        return await self.read_all_uncached(after_position, limit)

    async def read_all_uncached(
        self, after_position: int, limit: int, *, types: Collection[str] | None = None
    ) -> list[RecordedEvent]:
        """:meth:`read_all` straight from the database; only events of ``types`` if given.

        With ``types`` the events of other types are skipped without being decoded (a
        rebuild reads only what its projections use); positions then have gaps.
        """
        if types is None:
            sql = _SQLITE_READ_ALL if self._sqlite else _PG_READ_ALL
            return await self._read(sql, (after_position, limit))
        wanted = sorted(types)
        if self._sqlite:
            # "+type": filter rows while walking the position order, not through ix_events_type.
            marks = ",".join("?" * len(wanted))
            sql = _SELECT + f" WHERE position > ? AND +type IN ({marks}) ORDER BY position LIMIT ?"
            return await self._read(sql, (after_position, *wanted, limit))
        return await self._read(_PG_READ_ALL_OF_TYPES, (after_position, wanted, limit))

    async def read_partitions(
        self,
        after_position: int,
        limit: int,
        partitions: Collection[int],
        *,
        streams: Collection[str] = (),
    ) -> list[RecordedEvent]:
        """:meth:`read_all` restricted to the events of ``partitions`` (a worker's share)
        and of ``streams`` (read by every worker).

        Straight from the database through ``ix_events_partition_position``: the shared
        tail holds every partition, and a worker reads only its own.
        """
        owned, named = sorted(partitions), sorted(streams)
        if not owned and not named:
            return []
        if self._sqlite:
            p_marks, s_marks = ",".join("?" * len(owned)), ",".join("?" * len(named))
            where = f"(partition IN ({p_marks}) OR stream IN ({s_marks})) AND position > ?"
            sql = f"{_SELECT} WHERE {where} ORDER BY position LIMIT ?"
            return await self._read(sql, (*owned, *named, after_position, limit))
        return await self._read(_PG_READ_PARTITIONS, (after_position, owned, limit, named))

    def forget_cached(self) -> None:
        """Drop cached keys and decoded events: after an erasure nothing may serve them."""
        self.people.forget_cached()
        for forget in self.on_forget:
            forget()
        if self._tail is not None:
            self._tail.clear()

    def share_tail(self, capacity: int = 20_000) -> None:
        """Serve :meth:`read_all` near the head from one shared in-memory tail."""
        self._tail = TailCache(
            self.read_all_uncached, capacity=capacity, committed=lambda: self.notifier.position
        )

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[RecordedEvent]:
        # One driver call for the whole page (aiosqlite: one thread hop; asyncpg: one
        # fetch), then our own decoding instead of SQLAlchemy's per-column processing.
        async with self.engines.reader.connect() as conn:
            driver = await driver_connection(conn)
            if self._sqlite:
                rows = await driver.execute_fetchall(sql, params)
            else:
                rows = await driver.fetch(sql, *params)
        sealed = sealed_people_of(rows)
        if sealed and self.people.needs_load(sealed):
            await self.people.load(sealed)
        return decode_rows(rows, sqlite=self._sqlite, people=self.people)

    async def stream_version(self, stream: str) -> int:
        """The stream's current version; 0 when it has no events."""
        stmt = select(func.max(events.c.version)).where(events.c.stream == stream)
        async with self.engines.reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar() or 0)

    async def last_position(self) -> int:
        """The highest position stored; 0 for an empty log."""
        async with self.engines.reader.connect() as conn:
            return int((await conn.execute(select(func.max(events.c.position)))).scalar() or 0)

    # -- checkpoints -------------------------------------------------------------------

    async def load_checkpoint(self, name: str, conn: AsyncConnection | None = None) -> int:
        """The position subscriber ``name`` has processed up to (0 if new)."""
        stmt = select(checkpoints.c.position).where(checkpoints.c.name == name)
        if conn is not None:
            return int((await conn.execute(stmt)).scalar() or 0)
        async with self.engines.reader.connect() as own:
            return int((await own.execute(stmt)).scalar() or 0)

    def now(self) -> datetime:
        """The store's clock, for checkpoint writers beside it."""
        return self._clock()

    async def save_checkpoint(self, name: str, position: int, conn: AsyncConnection) -> None:
        """Record ``position`` for ``name`` inside the caller's transaction."""
        now = self._clock()
        updated = await conn.execute(
            checkpoints.update()
            .where(checkpoints.c.name == name)
            .values(position=position, updated_at=now)
        )
        if updated.rowcount == 0:
            await conn.execute(
                checkpoints.insert().values(name=name, position=position, updated_at=now)
            )
