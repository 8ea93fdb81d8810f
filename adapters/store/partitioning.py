"""Migration 14: every event row carries its stream's partition; the count is recorded.

The ``partition`` column (``core.partitions.partition_of(stream, count)``) is written by
every append and indexed with the position, so a worker reads only its partitions'
events in log order (``WHERE partition = ANY(...) AND position > ...``). Existing rows
are backfilled here, on both backends. The count is fixed for a database: it is recorded
in ``event_partitions`` when the column is made, and a process configured with another
count refuses to start (:func:`check_partitions`) rather than file streams under the
wrong partitions (docs/adr/0018-partitioned-workers.md).

The column is not part of ``schema.events``: that table definition is migration 1's, and
migrations never change meaning after they ship.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Connection, Integer, Table, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from adapters.store.engine import Engines
from adapters.store.migrations import migration
from adapters.store.schema import UtcDateTime, metadata
from core.partitions import DEFAULT_PARTITIONS, PartitionCountError, check_count, partition_of

# Where migrate() leaves the count to record, on the migrating connection's ``info``.
COUNT_INFO_KEY = "dloop_partitions"

event_partitions = Table(
    "event_partitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one row
    Column("count", Integer, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

_BACKFILL_PAGE = 1000  # streams updated per statement


@migration(14, "event partitions: a partition column on events, backfilled, and its count")
def _partitions(conn: Connection, dialect: str) -> None:
    count = check_count(int(conn.info.get(COUNT_INFO_KEY, DEFAULT_PARTITIONS)))
    kind = "smallint" if dialect == "postgresql" else "INTEGER"
    conn.execute(text(f"ALTER TABLE events ADD COLUMN partition {kind} NOT NULL DEFAULT 0"))
    streams = list(conn.execute(text("SELECT DISTINCT stream FROM events")).scalars())
    pairs = [{"s": s, "p": partition_of(s, count)} for s in streams if partition_of(s, count)]
    for start in range(0, len(pairs), _BACKFILL_PAGE):
        conn.execute(
            text("UPDATE events SET partition = :p WHERE stream = :s"),
            pairs[start : start + _BACKFILL_PAGE],
        )
    conn.execute(text("CREATE INDEX ix_events_partition_position ON events (partition, position)"))
    event_partitions.create(conn)
    conn.execute(event_partitions.insert().values(id=1, count=count, recorded_at=datetime.now(UTC)))


async def recorded_partitions(engines: Engines) -> int:
    """The partition count recorded for the database; a clear error before migration 14."""
    try:
        async with engines.reader.connect() as conn:
            found = (await conn.execute(select(event_partitions.c.count))).scalar()
    except (OperationalError, DBAPIError) as exc:
        raise PartitionCountError(
            "the database records no partition count: run `dloop-bot migrate`"
        ) from exc
    if found is None:
        raise PartitionCountError(
            "the database records no partition count: run `dloop-bot migrate`"
        )
    return int(found)


async def check_partitions(engines: Engines, configured: int) -> int:
    """The recorded count, when it equals ``configured``; :class:`PartitionCountError` if not."""
    recorded = await recorded_partitions(engines)
    if recorded != configured:
        raise PartitionCountError(
            f"DLOOP_PARTITIONS is {configured} but this database was partitioned into"
            f" {recorded}: the count is fixed for a database; set DLOOP_PARTITIONS={recorded}"
        )
    return recorded
