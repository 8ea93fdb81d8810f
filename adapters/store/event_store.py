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
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
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

_CHUNK = 500  # bound on IN (...) lists


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class EventStore:
    """Append, read and checkpoint; see the module docstring for the guarantees."""

    def __init__(
        self, engines: Engines, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engines = engines
        self.dialect = engines.dialect
        self._clock = clock
        self.notifier = Notifier()

    # -- writing -----------------------------------------------------------------------

    async def append(
        self, stream: str, expected: ExpectedVersion, new_events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append ``new_events`` to ``stream`` in one transaction."""
        [outcome] = await self.commit_units([[AppendRequest(stream, expected, new_events)]])
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
                outcomes, rows = await self._plan(conn, units)
                positions = await self._insert(conn, rows)
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
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"))
            yield conn

    async def _plan(
        self, conn: AsyncConnection, units: Sequence[Sequence[AppendRequest]]
    ) -> tuple[list[Any], list[dict[str, Any]]]:
        requests = [r for unit in units for r in unit]
        known = await self._known_ids(conn, [e.event_id for r in requests for e in r.events])
        versions = await self._versions(conn, {r.stream for r in requests})
        now = self._clock()
        outcomes: list[Any] = []
        rows: list[dict[str, Any]] = []
        for unit in units:
            planned = _plan_unit(unit, known, versions, now)
            if isinstance(planned, BaseException):
                outcomes.append(planned)
                continue
            unit_results, unit_rows, unit_versions, unit_ids = planned
            versions.update(unit_versions)
            known.update(unit_ids)
            outcomes.append((unit_results, len(rows)))
            rows.extend(unit_rows)
        return outcomes, rows

    async def _insert(self, conn: AsyncConnection, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        stmt = events.insert().returning(events.c.position, sort_by_parameter_order=True)
        result = await conn.execute(stmt, rows)
        positions = [int(p) for p in result.scalars()]
        if self.dialect == "postgresql":
            await conn.execute(
                text("SELECT pg_notify('dloop_events', :p)"), {"p": str(positions[-1])}
            )
        return positions

    async def _known_ids(self, conn: AsyncConnection, ids: list[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        for chunk in _chunks(ids):
            rows = await conn.execute(select(events.c.event_id).where(events.c.event_id.in_(chunk)))
            found.update(rows.scalars())
        return found

    async def _versions(self, conn: AsyncConnection, streams: set[str]) -> dict[str, int]:
        out = dict.fromkeys(streams, 0)
        for chunk in _chunks(sorted(streams)):
            stmt = (
                select(events.c.stream, func.max(events.c.version))
                .where(events.c.stream.in_(chunk))
                .group_by(events.c.stream)
            )
            for stream, version in await conn.execute(stmt):
                out[stream] = int(version)
        return out

    # -- reading -----------------------------------------------------------------------

    async def read_stream(self, stream: str, *, after_version: int = 0) -> list[RecordedEvent]:
        """The events of ``stream`` in version order (after ``after_version``)."""
        stmt = (
            select(events)
            .where(events.c.stream == stream, events.c.version > after_version)
            .order_by(events.c.version)
        )
        async with self.engines.reader.connect() as conn:
            return [_decode_row(r) for r in await conn.execute(stmt)]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Up to ``limit`` events with position greater than ``after_position``, in order."""
        stmt = (
            select(events)
            .where(events.c.position > after_position)
            .order_by(events.c.position)
            .limit(limit)
        )
        async with self.engines.reader.connect() as conn:
            return [_decode_row(r) for r in await conn.execute(stmt)]

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
    unit: Sequence[AppendRequest], known: set[UUID], versions: dict[str, int], now: datetime
) -> Any:
    versions = dict(versions)
    ids: set[UUID] = set()
    results: list[tuple[str, list[UUID], list[UUID], int]] = []
    rows: list[dict[str, Any]] = []
    for req in unit:
        current = versions.get(req.stream, 0)
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
            rows.append(_row(req.stream, current, e, now))
        versions[req.stream] = current
        results.append((req.stream, [e.event_id for e in fresh], dupes, current))
    return results, rows, versions, ids


def _expected_ok(expected: ExpectedVersion, current: int) -> bool:
    if expected is Expect.ANY:
        return True
    if expected is Expect.NO_STREAM:
        return current == 0
    return expected == current


def _row(stream: str, version: int, e: NewEvent, now: datetime) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "stream": stream,
        "version": version,
        "type": e.type,
        "schema_version": e.payload.VERSION,
        "data": _dumps(encode_payload(e.payload)),
        "metadata": _dumps(e.metadata.to_json()),
        "recorded_at": now,
    }


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


def _decode_row(row: Any) -> RecordedEvent:
    position, type_name = int(row.position), str(row.type)
    try:
        data = json.loads(row.data)
        meta = json.loads(row.metadata)
    except (TypeError, ValueError) as exc:
        raise CorruptEventError(
            f"stored JSON is invalid: {exc}", position=position, type_name=type_name
        ) from exc
    return RecordedEvent(
        position=position,
        event_id=row.event_id,
        stream=row.stream,
        version=int(row.version),
        type=type_name,
        schema_version=int(row.schema_version),
        payload=decode_payload(type_name, int(row.schema_version), data, position=position),
        metadata=Metadata.from_json(meta if isinstance(meta, dict) else {}),
        recorded_at=row.recorded_at,
    )


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__
