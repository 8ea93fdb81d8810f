"""A small versioned migration runner (see docs/adr/0002-migrations.md).

Migrations are Python functions applied in order inside one transaction each and recorded
in ``schema_migrations``. Other modules (projections, the reactor runtime) register their
own steps with :func:`migration`; versions are global integers so that the order is total.
On PostgreSQL the runner takes an advisory lock so that two processes starting together
do not both migrate.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.engine import Engines
from adapters.store.schema import checkpoints, events, schema_migrations

MIGRATION_LOCK_KEY = 0x646C6F6F70_01  # "dloop" + 1: the migration advisory lock
APPEND_LOCK_KEY = 0x646C6F6F70_02  # serialises appends so position order = commit order
# Serialises read-side write transactions (projection batches, checkpoints, the hash chain)
# across processes, apart from appends: see EventStore.transaction.
READ_SIDE_LOCK_KEY = 0x646C6F6F70_03

Step = Callable[[Connection, str], None]

# Modules that register further steps; imported when migrating so no step is forgotten.
MIGRATION_MODULES = (
    "adapters.readmodel.tables",
    "adapters.ops.hashchain",
    "adapters.market.tables",
    "adapters.order_schema",
    "adapters.store.people",
    "adapters.readmodel.schema_who",
    "adapters.store.snapshots",
    "adapters.store.partitioning",
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``apply(sync_connection, dialect_name)``."""

    version: int
    name: str
    apply: Step


_MIGRATIONS: dict[int, Migration] = {}


def migration(version: int, name: str) -> Callable[[Step], Step]:
    """Register the decorated function as schema step ``version``."""

    def register(fn: Step) -> Step:
        if version in _MIGRATIONS:
            raise ValueError(f"migration {version} is defined twice")
        _MIGRATIONS[version] = Migration(version, name, fn)
        return fn

    return register


def all_migrations() -> list[Migration]:
    """Every registered migration in version order."""
    for module in MIGRATION_MODULES:
        importlib.import_module(module)
    return [_MIGRATIONS[v] for v in sorted(_MIGRATIONS)]


@migration(1, "event store")
def _event_store(conn: Connection, dialect: str) -> None:
    events.create(conn)
    checkpoints.create(conn)
    if dialect != "postgresql":
        return
    # Every INSERT into events first takes a transaction-scoped advisory lock, so no
    # code path can hand out positions out of commit order (DESIGN.md section 4).
    conn.execute(
        text(f"""
        CREATE OR REPLACE FUNCTION dloop_events_serialize() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({APPEND_LOCK_KEY});
            RETURN NULL;
        END $$ LANGUAGE plpgsql""")
    )
    conn.execute(
        text("""
        CREATE TRIGGER events_serialize BEFORE INSERT ON events
        FOR EACH STATEMENT EXECUTE FUNCTION dloop_events_serialize()""")
    )
    conn.execute(text("ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT txid_current()"))


async def migrate(
    engines: Engines, *, now: datetime | None = None, partitions: int | None = None
) -> list[Migration]:
    """Apply every pending migration; returns the ones applied now.

    ``partitions``: the event partition count migration 14 records (default 16); it is
    fixed for the database from then on (``adapters.store.partitioning``).
    """
    applied: list[Migration] = []
    async with engines.writer.begin() as conn:
        if partitions is not None:
            conn.info["dloop_partitions"] = partitions  # read by migration 14
        if engines.dialect == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        await conn.run_sync(lambda c: schema_migrations.create(c, checkfirst=True))
        done = set((await conn.execute(select(schema_migrations.c.version))).scalars())
        for step in all_migrations():
            if step.version in done:
                continue
            await _apply(conn, step, engines.dialect, now or datetime.now(UTC))
            applied.append(step)
    return applied


async def _apply(conn: AsyncConnection, step: Migration, dialect: str, now: datetime) -> None:
    await conn.run_sync(lambda c: step.apply(c, dialect))
    await conn.execute(
        schema_migrations.insert().values(version=step.version, name=step.name, applied_at=now)
    )
