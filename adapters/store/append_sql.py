"""The append transaction's statements on each driver (aiosqlite's thread, asyncpg).

Split from :mod:`adapters.store.event_store`, which keeps the guarantees (its docstring):
on SQLite the whole transaction (``BEGIN IMMEDIATE``, lookup, insert, ``COMMIT``) runs as
ONE call on the writer connection's driver thread; on PostgreSQL the append lock is taken
before positions are drawn, so position order equals commit order (ADR 0001). Every row
carries its stream's partition (ADR 0018).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.encoding import EncodedUnit, Row, dumps, plan_units
from adapters.store.migrations import APPEND_LOCK_KEY
from adapters.store.tolerant import resolve_pg, resolve_sqlite
from adapters.store.write_turn import WriteTurn
from core.partitions import partition_of

# Known ids, current stream versions and the last position handed out, in one statement.
# One correlated max() per stream: SQLite answers it with one probe at the end of the
# (stream, version) index, where ``max(version) ... GROUP BY stream`` walked every entry
# of the stream (1.5 ms on a 5,000-event conversation, per append).
_SQLITE_LOOKUP = """
SELECT 0, event_id, NULL FROM events WHERE event_id IN (SELECT value FROM json_each(?))
UNION ALL
SELECT 1, value, (SELECT max(version) FROM events WHERE stream = value) FROM json_each(?)
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
    " metadata, recorded_at, partition) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# BEGIN and the append lock in one round trip (the simple-query protocol takes several
# statements); the lookup that follows is a statement of its own, so under READ COMMITTED
# it sees every append committed before the lock was granted.
PG_BEGIN = f"BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})"
# The NOTIFY channel of this log: NOTIFY is per database, so the channel names the schema
# too; a service on another schema of the same database (a test, a staging copy) would
# otherwise announce its positions to this one's followers, which read them as this
# log's and could skip their own events. Evaluated by the server, with the connection's
# search path; the listener asks the same expression (``adapters.store.subscriptions``).
PG_CHANNEL = "'dloop_events_' || left(md5(current_database() || '.' || current_schema()), 16)"
# One statement for the whole batch (the statement trigger fires once): positions drawn
# from the sequence in the rows' order (nextval is evaluated after the ORDER BY, so a
# stream's versions get increasing positions), the positions given back, and the NOTIFY
# that other processes' subscribers wake on (delivered at commit).
_PG_INSERT = """
WITH inserted AS (
  INSERT INTO events (position, event_id, stream, version, type, schema_version, data,
                      metadata, recorded_at, partition)
  SELECT nextval('events_position_seq'), u.e, u.s, u.v, u.t, u.sv, u.d, u.m, $8::timestamptz, u.p
    FROM unnest($1::uuid[], $2::text[], $3::integer[], $4::text[], $5::integer[],
                $6::text[], $7::text[], $9::smallint[])
         WITH ORDINALITY AS u(e, s, v, t, sv, d, m, p, n)
   ORDER BY u.n
  RETURNING position
)
SELECT array_agg(position ORDER BY position),
       pg_notify('dloop_events_' || left(md5(current_database() || '.' || current_schema()), 16),
                 max(position)::text)
  FROM inserted"""
assert PG_CHANNEL in _PG_INSERT.replace("\n", "")  # one channel for the NOTIFY and the LISTEN


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's own connection (aiosqlite or asyncpg) behind a pooled connection."""
    return (await conn.get_raw_connection()).driver_connection


async def in_driver_thread(driver: Any, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(sqlite3_connection, *args)`` on aiosqlite's own thread for the connection.

    aiosqlite serialises every call on a connection through that thread; queueing one
    function there is one hop for a whole transaction. It is aiosqlite's internal queue
    (``_execute``/``_conn``), which SQLAlchemy's own aiosqlite adapter also relies on.
    """
    return await driver._execute(fn, driver._conn, *args)


def sqlite_commit(
    db: sqlite3.Connection,
    units: Sequence[EncodedUnit],
    recorded_at: str,
    count: int,
    turn: WriteTurn | None = None,
) -> tuple[list[Any], range]:
    """One append transaction, run on the driver thread; durable when it returns."""
    if turn is None:
        return _sqlite_commit_turn(db, units, recorded_at, count)
    turn.acquire()  # as every write transaction: adapters/store/write_turn.py
    try:
        return _sqlite_commit_turn(db, units, recorded_at, count)
    finally:
        turn.release()


def _sqlite_commit_turn(
    db: sqlite3.Connection, units: Sequence[EncodedUnit], recorded_at: str, count: int
) -> tuple[list[Any], range]:
    db.execute("BEGIN IMMEDIATE")
    try:
        known, versions, last = _sqlite_lookup(db, units)
        units = resolve_sqlite(db, units, versions)
        outcomes, rows = plan_units(units, known, versions)
        if rows:
            # One writer holds BEGIN IMMEDIATE: the positions after the last one ever
            # handed out (sqlite_sequence, which AUTOINCREMENT keeps) are ours, in order.
            params = [
                (
                    *(last + i, e[1], stream, version, e[2], e[3], e[4], e[5], recorded_at),
                    partition_of(stream, count),
                )
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
    for kind, key, number in db.execute(_SQLITE_LOOKUP, (ids_json, dumps(sorted(streams)))):
        if kind == 0:
            known.add(key)
        elif kind == 1:
            versions[key] = int(number or 0)  # NULL: a stream without events yet
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


def _pg_arguments(rows: list[tuple[Any, str, int]], recorded_at: datetime, count: int) -> list[Any]:
    """The insert's arguments: one array per column, in ``_PG_INSERT`` order."""
    return [
        [e[0] for e, _, _ in rows],
        [stream for _, stream, _ in rows],
        [version for _, _, version in rows],
        [e[2] for e, _, _ in rows],
        [e[3] for e, _, _ in rows],
        [e[4] for e, _, _ in rows],
        [e[5] for e, _, _ in rows],
        recorded_at,
        [partition_of(stream, count) for _, stream, _ in rows],
    ]


def one_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0] if text_ else type(exc).__name__


Planned = tuple[list[Any], list[Row]]  # per unit its results or conflict; the rows


async def pg_plan(driver: Any, units: Sequence[EncodedUnit]) -> Planned:
    """The lookup (and stored types) without the lock, and the plan from it: read only."""
    known, versions = await _pg_lookup(driver, units)
    units = await resolve_pg(driver, units, versions)
    return plan_units(units, known, versions)


async def pg_append(
    driver: Any,
    units: Sequence[EncodedUnit],
    planned: Planned,
    recorded_at: datetime,
    count: int,
) -> tuple[list[Any], Sequence[int]]:
    """Commit ``planned`` (from :func:`pg_plan`, outside any transaction) if it still holds.

    A plan that only appends is inserted as ONE statement in its own transaction: the
    statement trigger takes the append lock before positions are drawn, and the unique
    constraints refuse the insert if the lookup went stale (a stream's next version or
    an event id taken meanwhile: versions have no gaps). Anything else (a conflict or a
    duplicate to report exactly, or a refused insert) takes the locked transaction.
    """
    outcomes, rows = planned
    if rows and _appends_only(outcomes):
        try:
            positions = await driver.fetchval(_PG_INSERT, *_pg_arguments(rows, recorded_at, count))
        except asyncpg.UniqueViolationError:
            pass  # another writer came first: nothing written, plan again under the lock
        else:
            return outcomes, positions
    await driver.execute(PG_BEGIN)
    return await pg_commit(driver, units, recorded_at, count)


def _appends_only(outcomes: list[Any]) -> bool:
    """No unit planned a conflict, and no request met a known id."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            return False
        if any(dupes for _, _, dupes, _ in outcome[0]):
            return False
    return True


async def pg_commit(
    driver: Any, units: Sequence[EncodedUnit], recorded_at: datetime, count: int
) -> tuple[list[Any], Sequence[int]]:
    """The rest of an append transaction that :data:`PG_BEGIN` opened, through COMMIT.

    Two statements (the lookup; the insert with its positions and NOTIFY), then COMMIT;
    on any failure the transaction is rolled back if the connection still can (the
    caller drops a connection left in a transaction: :func:`pg_dirty`).
    """
    try:
        outcomes, rows = await pg_plan(driver, units)
        positions: list[int] = []
        if rows:
            positions = await driver.fetchval(_PG_INSERT, *_pg_arguments(rows, recorded_at, count))
        await driver.execute("COMMIT")
    except BaseException:
        if not driver.is_closed() and driver.is_in_transaction():
            with contextlib.suppress(Exception):
                await driver.execute("ROLLBACK")
        raise
    return outcomes, positions


def pg_dirty(driver: Any) -> bool:
    """True when ``driver`` must not go back to the pool: closed, or inside a transaction."""
    return bool(driver.is_closed() or driver.is_in_transaction())
