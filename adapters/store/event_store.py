"""The append-only event log on SQLAlchemy async Core (SQLite and PostgreSQL).

Ordering guarantee (docs/adr/0001-event-ordering.md): on PostgreSQL every append
transaction takes one transaction-scoped advisory lock before positions are handed out
(explicitly here, and again by a statement trigger so no code path can skip it) and holds
it until commit. Position order therefore equals commit order, and a reader following
``position > checkpoint`` never skips an event that commits late. SQLite has one writer.

Idempotency: an event whose ``event_id`` is already stored is not written again and is
reported in ``AppendResult.duplicates``; this holds inside a batch that mixes new and
known ids.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.engine import Engines
from adapters.store.migrations import APPEND_LOCK_KEY
from adapters.store.notify import Notifier
from adapters.store.schema import checkpoints, events
from adapters.store.types import (
    Appended,
    AppendRequest,
    AppendResult,
    Expect,
    ExpectedVersion,
    StoreUnavailableError,
    StreamVersionConflictError,
)
from events.base import Metadata, NewEvent, RecordedEvent
from events.codec import decode_payload, encode_payload
from events.errors import CorruptEventError

_PG_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
# Known ids, current stream versions and the last position handed out, in one statement.
_SQLITE_LOOKUP = """
SELECT 0, event_id, NULL FROM events WHERE event_id IN (SELECT value FROM json_each(?))
UNION ALL
SELECT 1, stream, max(version) FROM events
 WHERE stream IN (SELECT value FROM json_each(?)) GROUP BY stream
UNION ALL
SELECT 2, NULL, seq FROM sqlite_sequence WHERE name = 'events'"""
# LATERAL ... LIMIT 1 keeps one index probe per key whatever the planner thinks of the
# table's size (a fresh, unanalysed table otherwise gets sequential scans).
_PG_LOOKUP = """
SELECT 0, e.event_id::text, NULL::integer FROM unnest($1::uuid[]) AS k(id)
  CROSS JOIN LATERAL (SELECT event_id FROM events WHERE event_id = k.id LIMIT 1) AS e
UNION ALL
SELECT 1, k.stream, v.version FROM unnest($2::text[]) AS k(stream)
  CROSS JOIN LATERAL (SELECT version FROM events WHERE stream = k.stream
                      ORDER BY version DESC LIMIT 1) AS v"""
_SQLITE_INSERT = (
    "INSERT INTO events (position, event_id, stream, version, type, schema_version, data,"
    " metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PG_NEXTVAL = "SELECT nextval('events_position_seq') FROM generate_series(1, $1)"
# One statement for the whole batch (the statement trigger fires once), then the NOTIFY
# that other processes' subscribers wake on (delivered at commit).
_PG_INSERT = """
WITH inserted AS (
  INSERT INTO events (position, event_id, stream, version, type, schema_version, data,
                      metadata, recorded_at)
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::integer[], $5::text[],
                       $6::integer[], $7::text[], $8::text[], $9::timestamptz[])
)
SELECT pg_notify('dloop_events', $10)"""
_SELECT = (
    "SELECT position, event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at FROM events"
)
_SQLITE_READ_ALL = _SELECT + " WHERE position > ? ORDER BY position LIMIT ?"
_PG_READ_ALL = _SELECT + " WHERE position > $1 ORDER BY position LIMIT $2"
_SQLITE_READ_STREAM = _SELECT + " WHERE stream = ? AND version > ? ORDER BY version"
_PG_READ_STREAM = _SELECT + " WHERE stream = $1 AND version > $2 ORDER BY version"


class _Committer(Protocol):
    """What :meth:`EventStore.route_appends` needs of a group committer."""

    @property
    def running(self) -> bool: ...

    async def append(self, unit: Sequence[AppendRequest]) -> list[AppendResult]: ...


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not per call
_dumps = _JSON.encode


class EventStore:
    """Append, read and checkpoint; see the module docstring for the guarantees."""

    def __init__(
        self, engines: Engines, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engines = engines
        self.dialect = engines.dialect
        self._sqlite = engines.dialect == "sqlite"
        self._clock = clock
        self.notifier = Notifier()
        self._committer: _Committer | None = None

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

    async def commit_units(
        self, units: Sequence[Sequence[AppendRequest]]
    ) -> list[list[AppendResult] | BaseException]:
        """Commit several all-or-nothing units in ONE transaction (group commit).

        A unit whose version expectation fails gets its ``StreamVersionConflictError`` and
        writes nothing; the other units are still committed. A database failure fails
        every unit of this call with :class:`StoreUnavailableError`.
        """
        try:
            async with self.transaction() as conn:
                outcomes, rows, last = await self._plan(conn, units)
                positions = await self._insert(conn, rows, last)
        except (OperationalError, DBAPIError, OSError) as exc:
            error = StoreUnavailableError(f"event store write failed: {_one_line(exc)}")
            return [error for _ in units]
        self.notifier.notify(max(positions, default=0))
        return [_fill_positions(o, positions) for o in outcomes]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite; the append lock on PostgreSQL)."""
        async with self.engines.writer.begin() as conn:
            if self.dialect == "postgresql":
                await conn.exec_driver_sql(_PG_LOCK)
            yield conn

    async def _plan(
        self, conn: AsyncConnection, units: Sequence[Sequence[AppendRequest]]
    ) -> tuple[list[Any], list[tuple[Any, ...]], int]:
        requests = [r for unit in units for r in unit]
        ids = [e.event_id for r in requests for e in r.events]
        known, versions, last = await self._lookup(conn, ids, {r.stream for r in requests})
        recorded_at = self._recorded_at(self._clock())
        outcomes: list[Any] = []
        rows: list[tuple[Any, ...]] = []
        for unit in units:
            planned = _plan_unit(unit, known, versions, recorded_at, self._sqlite)
            if isinstance(planned, BaseException):
                outcomes.append(planned)
                continue
            unit_results, unit_rows, unit_versions, unit_ids = planned
            versions.update(unit_versions)
            known.update(unit_ids)
            outcomes.append((unit_results, len(rows)))
            rows.extend(unit_rows)
        return outcomes, rows, last

    async def _lookup(
        self, conn: AsyncConnection, ids: list[UUID], streams: set[str]
    ) -> tuple[set[UUID], dict[str, int], int]:
        """Known ids, stream versions and (SQLite) the last position, in ONE round trip."""
        versions = dict.fromkeys(streams, 0)
        if self._sqlite:
            params: tuple[Any, ...] = (_dumps([i.hex for i in ids]), _dumps(sorted(streams)))
            result = await conn.exec_driver_sql(_SQLITE_LOOKUP, params)
        else:
            result = await conn.exec_driver_sql(_PG_LOOKUP, (ids, sorted(streams)))
        known: set[UUID] = set()
        last = 0
        for kind, key, number in result:
            if kind == 0:
                known.add(UUID(key))
            elif kind == 1:
                versions[key] = int(number)
            else:
                last = int(number)
        return known, versions, last

    def _recorded_at(self, now: datetime) -> Any:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        if self._sqlite:  # SQLAlchemy's storage format for SQLite: naive UTC text
            return now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return now

    async def _insert(
        self, conn: AsyncConnection, rows: list[tuple[Any, ...]], last: int
    ) -> list[int]:
        """Insert ``rows`` with positions chosen under the write lock; returns them."""
        if not rows:
            return []
        if self._sqlite:
            # One writer holds BEGIN IMMEDIATE: the positions after the last one ever handed
            # out (sqlite_sequence, which AUTOINCREMENT keeps) are ours, in row order.
            positions = list(range(last + 1, last + 1 + len(rows)))
            params = [(p, *row) for p, row in zip(positions, rows, strict=True)]
            await conn.exec_driver_sql(_SQLITE_INSERT, params)
            return positions
        # Under the append lock: draw the positions, then one INSERT ... unnest.
        drawn = await conn.exec_driver_sql(_PG_NEXTVAL, (len(rows),))
        positions = sorted(int(p) for (p,) in drawn)
        columns = [list(c) for c in zip(*rows, strict=True)]
        await conn.exec_driver_sql(_PG_INSERT, (positions, *columns, str(positions[-1])))
        return positions

    # -- reading -----------------------------------------------------------------------

    async def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """The events of ``stream`` in version order (after ``after_version``)."""
        sql = _SQLITE_READ_STREAM if self._sqlite else _PG_READ_STREAM
        return await self._read(sql, (stream, after_version))

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events with position greater than ``after_position``, in order."""
        sql = _SQLITE_READ_ALL if self._sqlite else _PG_READ_ALL
        return await self._read(sql, (after_position, limit))

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[RecordedEvent]:
        # Raw driver rows: our own decoding replaces SQLAlchemy's per-column processing.
        async with self.engines.reader.connect() as conn:
            rows = (await conn.exec_driver_sql(sql, params)).all()
        decode = _decode_sqlite_row if self._sqlite else _decode_row
        return [decode(row) for row in rows]

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


def _plan_unit(
    unit: Sequence[AppendRequest],
    known: set[UUID],
    versions: dict[str, int],
    recorded_at: Any,
    sqlite: bool,
) -> Any:
    mine: dict[str, int] = {}  # this unit's versions, over the shared ones (no copy)
    ids: set[UUID] = set()
    results: list[tuple[str, list[UUID], list[UUID], int]] = []
    rows: list[tuple[Any, ...]] = []
    for req in unit:
        current = mine[req.stream] if req.stream in mine else versions.get(req.stream, 0)
        fresh: list[NewEvent] = []
        dupes: list[UUID] = []
        for e in req.events:
            if e.event_id in known or e.event_id in ids:
                dupes.append(e.event_id)
            else:
                ids.add(e.event_id)
                fresh.append(e)
        if fresh and not _expected_ok(req.expected, current):
            return StreamVersionConflictError(req.stream, req.expected, current)
        for e in fresh:
            current += 1
            rows.append(_row(req.stream, current, e, recorded_at, sqlite))
        mine[req.stream] = current
        results.append((req.stream, [e.event_id for e in fresh], dupes, current))
    return results, rows, mine, ids


def _expected_ok(expected: ExpectedVersion, current: int) -> bool:
    if expected is Expect.ANY:
        return True
    if expected is Expect.NO_STREAM:
        return current == 0
    return expected == current


def _row(stream: str, version: int, e: NewEvent, recorded_at: Any, sqlite: bool) -> tuple[Any, ...]:
    """The insert parameters after ``position``, in :data:`_COLUMNS` order."""
    payload = e.payload
    return (
        e.event_id.hex if sqlite else e.event_id,  # SQLite: SQLAlchemy's Uuid storage
        stream,
        version,
        payload.TYPE,
        payload.VERSION,
        _dumps(encode_payload(payload)),
        _dumps(e.metadata.to_json()),
        recorded_at,
    )


def _fill_positions(outcome: Any, positions: list[int]) -> list[AppendResult] | BaseException:
    if isinstance(outcome, BaseException):
        return outcome
    planned, offset = outcome
    results: list[AppendResult] = []
    for stream, fresh, dupes, version in planned:
        first_version = version - len(fresh) + 1
        appended = tuple(
            Appended(event_id=eid, position=positions[offset + i], version=first_version + i)
            for i, eid in enumerate(fresh)
        )
        offset += len(fresh)
        results.append(AppendResult(stream, appended, tuple(dupes), version))
    return results


def _decode_row(row: Sequence[Any]) -> RecordedEvent:
    """A row of ``_*_READ_*`` (native types, as asyncpg gives them) as a recorded event."""
    position, event_id, stream, version, type_name, schema_version, data, metadata, at = row
    try:
        payload = json.loads(data)
        meta = json.loads(metadata)
    except (TypeError, ValueError) as exc:
        raise CorruptEventError(
            f"stored JSON is invalid: {exc}", position=position, type_name=type_name
        ) from exc
    return RecordedEvent(
        position=position,
        event_id=event_id,
        stream=stream,
        version=version,
        type=type_name,
        schema_version=schema_version,
        payload=decode_payload(type_name, schema_version, payload, position=position),
        metadata=Metadata.from_json(meta if isinstance(meta, dict) else {}),
        recorded_at=at,
    )


def _decode_sqlite_row(row: Sequence[Any]) -> RecordedEvent:
    """SQLite keeps ids as hex text and times as naive UTC text (SQLAlchemy's formats)."""
    parsed = datetime.fromisoformat(row[8])
    at = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return _decode_row((*row[:1], UUID(row[1]), *row[2:8], at))


def _one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
