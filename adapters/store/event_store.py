"""The append-only event log on SQLAlchemy async Core (SQLite and PostgreSQL).

Ordering guarantee (docs/adr/0001-event-ordering.md): on PostgreSQL every append
transaction takes one transaction-scoped advisory lock before positions are handed out
(explicitly here, and again by a statement trigger so no code path can skip it) and holds
it until commit. Position order therefore equals commit order, and a reader following
``position > checkpoint`` never skips an event that commits late. SQLite has one writer.

Idempotency: an event whose ``event_id`` is already stored is not written again and is
reported in ``AppendResult.duplicates``; this holds inside a batch that mixes new and
known ids.

Speed (docs/benchmarks.md): payloads are encoded before the transaction starts (by the
group committer, in the caller's coroutine). On SQLite a whole append transaction
(``BEGIN IMMEDIATE``, lookup, insert, ``COMMIT``) runs as ONE call on the writer
connection's driver thread instead of a thread hop per statement, and reads fetch a page
in one driver call; rows are then decoded here without SQLAlchemy's per-column processing.
"""

from __future__ import annotations

import _json
import dataclasses
import gc
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID, SafeUUID

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.engine import Engines
from adapters.store.migrations import APPEND_LOCK_KEY, READ_SIDE_LOCK_KEY
from adapters.store.notify import Notifier
from adapters.store.people import SEALED, DbKeyStore, KeyStore, People, sealed_people_in
from adapters.store.schema import checkpoints, events
from adapters.store.tail_cache import TailCache
from adapters.store.tolerant import resolve_pg, resolve_sqlite
from adapters.store.types import (
    Appended,
    AppendRequest,
    AppendResult,
    Expect,
    ExpectedVersion,
    StoreUnavailableError,
    StreamVersionConflictError,
)
from core.phones import is_person_id
from events.base import Metadata, NewEvent, RecordedEvent, fast_constructor, personal_fields
from events.codec import decode_payload, encode_payload
from events.errors import CorruptEventError

_PG_LOCK = f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
_PG_READ_SIDE_LOCK = f"SELECT pg_advisory_xact_lock({READ_SIDE_LOCK_KEY})"
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
SELECT 0, replace(e.event_id::text, '-', ''), NULL::integer FROM unnest($1::uuid[]) AS k(id)
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
_PG_READ_ALL_OF_TYPES = (
    _SELECT + " WHERE position > $1 AND type = ANY($2::text[]) ORDER BY position LIMIT $3"
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

Outcome = list[AppendResult] | BaseException
# An encoded event: (id, stored id: hex on SQLite / the UUID on PostgreSQL, type,
# schema version, data JSON, metadata JSON). Kept as a tuple: it is built per event.
EncodedEvent = tuple[UUID, Any, str, int, str, str]


@dataclass(frozen=True, slots=True)
class EncodedRequest:
    """An :class:`AppendRequest` whose events are encoded (see :meth:`EventStore.encode_unit`)."""

    stream: str
    expected: ExpectedVersion
    events: tuple[EncodedEvent, ...]


EncodedUnit = tuple[EncodedRequest, ...]


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
        self._clock = clock
        self.notifier = Notifier()
        self._committer: _Committer | None = None
        self._tail: TailCache | None = None
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
        return tuple(_encode_request(r, self._sqlite, memo, self.people, unit_people) for r in unit)

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
            if self._sqlite:
                outcomes, positions = await self._commit_sqlite(units, recorded_at)
            else:
                outcomes, positions = await self._commit_pg(units, recorded_at)
        except _DB_ERRORS as exc:
            error = StoreUnavailableError(f"event store write failed: {_one_line(exc)}")
            return [error for _ in units]
        if positions:
            self.notifier.notify(positions[-1])
        return _fill_positions(outcomes, positions)

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
        self, units: Sequence[EncodedUnit], recorded_at: str
    ) -> tuple[list[Any], Sequence[int]]:
        # The writer engine's single pooled connection, so the one-writer rule holds for
        # every transaction in the process, ours and those opened with transaction().
        async with self.engines.writer.connect() as conn:
            driver = await _driver(conn)
            done: tuple[list[Any], range] = await _in_driver_thread(
                driver, _sqlite_commit, units, recorded_at
            )
        return done

    async def _commit_pg(
        self, units: Sequence[EncodedUnit], recorded_at: datetime
    ) -> tuple[list[Any], Sequence[int]]:
        async with self.engines.writer.connect() as conn:
            driver = await _driver(conn)
            async with driver.transaction():
                await driver.execute(_PG_LOCK)
                known, versions = await _pg_lookup(driver, units)
                units = await resolve_pg(driver, units, versions)
                outcomes, rows = _plan_units(units, known, versions)
                if not rows:
                    return outcomes, []
                drawn = await driver.fetch(_PG_NEXTVAL, len(rows))
                positions = sorted(p for (p,) in drawn)
                columns = _pg_columns(positions, rows, recorded_at)
                await driver.execute(_PG_INSERT, *columns, str(positions[-1]))
        return outcomes, positions

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

    def forget_cached(self) -> None:
        """Drop cached keys and decoded events: after an erasure nothing may serve them."""
        self.people.forget_cached()
        for forget in self.on_forget:
            forget()
        if self._tail is not None:
            self._tail.clear()

    def share_tail(self, capacity: int = 20_000) -> None:
        """Serve :meth:`read_all` near the head from one shared in-memory tail."""
        self._tail = TailCache(self.read_all_uncached, capacity=capacity)

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[RecordedEvent]:
        # One driver call for the whole page (aiosqlite: one thread hop; asyncpg: one
        # fetch), then our own decoding instead of SQLAlchemy's per-column processing.
        async with self.engines.reader.connect() as conn:
            driver = await _driver(conn)
            if self._sqlite:
                rows = await driver.execute_fetchall(sql, params)
            else:
                rows = await driver.fetch(sql, *params)
        sealed = _sealed_people(rows)
        if sealed and self.people.needs_load(sealed):
            await self.people.load(sealed)
        return _decode_rows(rows, sqlite=self._sqlite, people=self.people)

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


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite or asyncpg) behind a pooled connection."""
    return (await conn.get_raw_connection()).driver_connection


_driver = driver_connection


async def _in_driver_thread(driver: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(sqlite3_connection, *args)`` on aiosqlite's own thread for the connection.

    aiosqlite serialises every call on a connection through that thread; queueing one
    function there is one hop for a whole transaction. It is aiosqlite's internal queue
    (``_execute``/``_conn``), which SQLAlchemy's own aiosqlite adapter also relies on.
    """
    return await driver._execute(fn, driver._conn, *args)


def _sqlite_commit(
    db: sqlite3.Connection, units: Sequence[EncodedUnit], recorded_at: str
) -> tuple[list[Any], range]:
    """One append transaction, run on the driver thread; durable when it returns."""
    db.execute("BEGIN IMMEDIATE")
    try:
        known, versions, last = _sqlite_lookup(db, units)
        units = resolve_sqlite(db, units, versions)
        outcomes, rows = _plan_units(units, known, versions)
        if rows:
            # One writer holds BEGIN IMMEDIATE: the positions after the last one ever
            # handed out (sqlite_sequence, which AUTOINCREMENT keeps) are ours, in order.
            params = [
                (last + i, e[1], stream, version, e[2], e[3], e[4], e[5], recorded_at)
                for i, (e, stream, version) in enumerate(rows, 1)
            ]
            db.executemany(_SQLITE_INSERT, params)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return outcomes, range(last + 1, last + 1 + len(rows))


def _sqlite_lookup(
    db: sqlite3.Connection, units: Sequence[EncodedUnit]
) -> tuple[set[str], dict[str, int], int]:
    """Known ids (hex), stream versions and the last position, in ONE statement."""
    hexes = [e[1] for unit in units for r in unit for e in r.events]
    streams = {r.stream for unit in units for r in unit}
    versions = dict.fromkeys(streams, 0)
    ids_json = '["' + '","'.join(hexes) + '"]' if hexes else "[]"  # hex needs no escaping
    known: set[str] = set()
    last = 0
    for kind, key, number in db.execute(_SQLITE_LOOKUP, (ids_json, _dumps(sorted(streams)))):
        if kind == 0:
            known.add(key)
        elif kind == 1:
            versions[key] = int(number)
        else:
            last = int(number)
    return known, versions, last


async def _pg_lookup(driver: Any, units: Sequence[EncodedUnit]) -> tuple[set[str], dict[str, int]]:
    ids = [e[0] for unit in units for r in unit for e in r.events]
    streams = {r.stream for unit in units for r in unit}
    versions = dict.fromkeys(streams, 0)
    known: set[str] = set()
    for kind, key, number in await driver.fetch(_PG_LOOKUP, ids, sorted(streams)):
        if kind == 0:
            known.add(key)
        else:
            versions[key] = int(number)
    return known, versions


def _pg_columns(
    positions: list[int], rows: list[tuple[Any, str, int]], recorded_at: datetime
) -> list[list[Any]]:
    """The insert's arrays, one per column, in ``_PG_INSERT`` order."""
    return [
        positions,
        [e[0] for e, _, _ in rows],
        [stream for _, stream, _ in rows],
        [version for _, _, version in rows],
        [e[2] for e, _, _ in rows],
        [e[3] for e, _, _ in rows],
        [e[4] for e, _, _ in rows],
        [e[5] for e, _, _ in rows],
        [recorded_at] * len(rows),
    ]


def _one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


# -- encoding and planning ---------------------------------------------------------------

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder built once (json.dumps builds one per call); output identical to _JSON's.
_ENCODE = _json.make_encoder(
    None, _JSON.default, _json.encode_basestring, None, ":", ",", False, False, True
)


def _dumps(value: Any) -> str:
    return "".join(_ENCODE(value, 0))


def stream_person(stream: str) -> str | None:
    """The person id a stream belongs to (``conversation-prs_...``), else None."""
    if stream.startswith("conversation-"):
        key = stream[13:]
        return key if is_person_id(key) else None
    return None


def _encode_request(
    request: AppendRequest,
    sqlite: bool,
    memo: dict[int, str],
    people: People,
    unit_people: tuple[str, ...],
) -> EncodedRequest:
    """``memo`` maps ``id(metadata)`` to its JSON; the objects outlive the call."""
    encoded = []
    owner = stream_person(request.stream)
    for e in request.events:
        payload = e.payload
        plain = encode_payload(payload)
        if personal_fields(payload.TYPE):
            sealed_for = (
                _owners(owner, request.sealed_with)
                if owner is not None
                else _delivery_people(payload, unit_people)
            )
            if sealed_for:
                people.seal(payload.TYPE, plain, sealed_for)
        data = _dumps(plain)
        stored_id = e.event_id.hex if sqlite else e.event_id  # SQLite: SQLAlchemy's Uuid storage
        metadata = memo.get(id(e.metadata))
        if metadata is None:
            metadata = memo[id(e.metadata)] = _dumps(e.metadata.to_json())
        encoded.append((e.event_id, stored_id, payload.TYPE, payload.VERSION, data, metadata))
    return EncodedRequest(request.stream, request.expected, tuple(encoded))


def _owners(owner: str, also: tuple[str, ...]) -> tuple[str, ...]:
    """The stream's person first, then the others its events concern (ADR 0017)."""
    return (owner, *sorted(set(also) - {owner}))


def _delivery_people(payload: Any, unit_people: tuple[str, ...]) -> tuple[str, ...]:
    """A raw delivery outside a person's stream concerns the people of its unit."""
    return unit_people if payload.TYPE == "whatsapp.webhook_received" else ()


Row = tuple[EncodedEvent, str, int]  # the event, its stream and its version


def _plan_units(
    units: Sequence[EncodedUnit], known: set[Any], versions: dict[str, int]
) -> tuple[list[Any], list[Row]]:
    """Per unit its planned results or its conflict, and the rows to insert, in order.

    ``known`` holds the stored ids already taken (hex on SQLite, text without dashes on
    PostgreSQL: the form of ``EncodedEvent[1]``'s hex) and grows with each unit planned.
    """
    outcomes: list[Any] = []
    rows: list[Row] = []
    for unit in units:
        planned = _plan_unit(unit, known, versions)
        if isinstance(planned, BaseException):
            outcomes.append(planned)
            continue
        results, unit_rows, unit_versions, unit_ids = planned
        versions.update(unit_versions)
        known.update(unit_ids)
        outcomes.append((results, len(rows)))
        rows.extend(unit_rows)
    return outcomes, rows


def _plan_unit(unit: EncodedUnit, known: set[Any], versions: dict[str, int]) -> Any:
    if len(unit) == 1 and len(unit[0].events) == 1:  # the common unit: one event
        return _plan_one(unit[0], known, versions)
    mine: dict[str, int] = {}  # this unit's versions, over the shared ones (no copy)
    ids: set[Any] = set()
    results: list[tuple[str, list[UUID], list[UUID], int]] = []
    rows: list[Row] = []
    for req in unit:
        current = mine[req.stream] if req.stream in mine else versions.get(req.stream, 0)
        fresh: list[EncodedEvent] = []
        dupes: list[UUID] = []
        for e in req.events:
            key = _id_key(e)
            if key in known or key in ids:
                dupes.append(e[0])
            else:
                ids.add(key)
                fresh.append(e)
        if fresh and not _expected_ok(req.expected, current):
            return StreamVersionConflictError(req.stream, req.expected, current)
        for e in fresh:
            current += 1
            rows.append((e, req.stream, current))
        mine[req.stream] = current
        results.append((req.stream, [e[0] for e in fresh], dupes, current))
    return results, rows, mine, ids


def _plan_one(req: EncodedRequest, known: set[Any], versions: dict[str, int]) -> Any:
    """:func:`_plan_unit` for a unit of one request with one event (same results)."""
    e = req.events[0]
    key = _id_key(e)
    current = versions.get(req.stream, 0)
    if key in known:
        return [(req.stream, [], [e[0]], current)], [], {req.stream: current}, ()
    if not _expected_ok(req.expected, current):
        return StreamVersionConflictError(req.stream, req.expected, current)
    current += 1
    return (
        [(req.stream, [e[0]], [], current)],
        [(e, req.stream, current)],
        {req.stream: current},
        (key,),
    )


def _id_key(e: EncodedEvent) -> Any:
    stored = e[1]
    return stored if type(stored) is str else e[0].hex


def _expected_ok(expected: ExpectedVersion, current: int) -> bool:
    if expected is Expect.ANY:
        return True
    if expected is Expect.NO_STREAM:
        return current == 0
    return expected == current


def _fill_positions(outcomes: list[Any], positions: Sequence[int]) -> list[Outcome]:
    filled: list[Outcome] = []
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            filled.append(outcome)
            continue
        planned, offset = outcome
        results: list[AppendResult] = []
        for stream, fresh, dupes, version in planned:
            first = version - len(fresh) + 1
            appended = tuple(
                [_appended(eid, positions[offset + i], first + i) for i, eid in enumerate(fresh)]
            )
            offset += len(fresh)
            results.append(_result(stream, appended, tuple(dupes), version))
        filled.append(results)
    return filled


# The result types built through their slots (same objects, ~2.5x faster, see
# fast_constructor), or by their constructors should they ever stop qualifying.
_appended: Callable[..., Appended] = fast_constructor(Appended) or Appended
_result: Callable[..., AppendResult] = fast_constructor(AppendResult) or AppendResult


# -- decoding ----------------------------------------------------------------------------

_SCAN = _json.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: duck type


def loads(text: Any) -> Any:
    """``json.loads`` for our own compact JSON text, without its per-call overhead."""
    if type(text) is str:
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            pass  # not a value at index 0 (leading space?): json.loads says what it is
        else:
            if end == len(text):
                return value
    return json.loads(text)


_loads = loads
_new_uuid = object.__new__
_set = object.__setattr__


def _uuid_from_hex(text: str) -> UUID:
    """``UUID(text)`` for SQLite's 32-digit hex, built without its parsing."""
    if len(text) != 32:
        return UUID(text)
    value: UUID = _new_uuid(UUID)
    _set(value, "int", int(text, 16))  # UUID does the same after its normalisation
    _set(value, "is_safe", SafeUUID.unknown)
    return value


def _sealed_people(rows: Iterable[Sequence[Any]]) -> set[str]:
    return sealed_people_in([row[6] for row in rows])


def _decode_rows(
    rows: Iterable[Sequence[Any]], *, sqlite: bool, people: People
) -> list[RecordedEvent]:
    """``_SELECT`` rows as recorded events; a row that cannot be read names its position.

    SQLite keeps ids as hex text and times as naive UTC text (SQLAlchemy's formats);
    asyncpg gives native UUIDs and aware datetimes.
    """
    with gc_paused():
        return _decode_rows_now(rows, sqlite=sqlite, people=people)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC passes while a page of events is built (none of it forms cycles).

    A page of 1,000 events leaves about 4,000 new tracked objects, which would start
    several young-generation passes and, through them, full passes over the whole heap
    (measured: about a quarter of the read time with a large heap). Paused, the page
    costs one young pass when collection resumes. Only synchronous code runs inside.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _decode_rows_now(
    rows: Iterable[Sequence[Any]], *, sqlite: bool, people: People
) -> list[RecordedEvent]:
    out: list[RecordedEvent] = []
    last_text: Any = None
    last_at = datetime.min
    for position, raw_id, stream, version, type_name, schema_version, data, meta, raw_at in rows:
        try:
            if sqlite:
                if raw_at != last_text:  # rows of one transaction share their recorded_at
                    last_text, last_at = raw_at, _sqlite_time(raw_at)
                at, event_id = last_at, _uuid_from_hex(raw_id)
            else:
                at, event_id = raw_at, raw_id
        except (TypeError, ValueError) as exc:
            raise _corrupt("event_id or recorded_at", exc, position, type_name) from exc
        try:
            payload, metadata = _loads(data), _loads(meta)
        except (TypeError, ValueError) as exc:
            raise _corrupt("JSON", exc, position, type_name) from exc
        if type(payload) is dict and SEALED in payload:
            try:
                payload = people.unseal(type_name, payload)
            except (TypeError, ValueError) as exc:
                raise _corrupt("personal fields", exc, position, type_name) from exc
        out.append(
            _new_recorded(
                position,
                event_id,
                stream,
                version,
                type_name,
                schema_version,
                decode_payload(type_name, schema_version, payload, position=position),
                Metadata.from_json(metadata if type(metadata) is dict else {}),
                at,
            )
        )
    return out


def _corrupt(what: str, exc: Exception, position: int, type_name: str) -> CorruptEventError:
    return CorruptEventError(
        f"stored {what} is invalid: {exc}", position=position, type_name=type_name
    )


def _sqlite_time(text: Any) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _recorded_by_keywords(*values: Any) -> RecordedEvent:
    names = [f.name for f in dataclasses.fields(RecordedEvent)]
    return RecordedEvent(**dict(zip(names, values, strict=True)))


# RecordedEvent(...) with its fields in order, through its slots when that is the same.
_new_recorded: Callable[..., RecordedEvent] = (
    fast_constructor(RecordedEvent) or _recorded_by_keywords
)
