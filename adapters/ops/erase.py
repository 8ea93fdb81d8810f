"""``dloop-bot erase --phone``: make one person unreadable for good (crypto-shredding).

Erasure deletes the person's row of ``person_keys``: their phone, the mapping to their
person id and their key go together (docs/adr/0007-crypto-shredding.md). The log is not
rewritten: every personal field of theirs was stored sealed with that key and reads as
``[erased]`` from now on, so replay, audit and the hash chain still work. The read tables
are then rebuilt from the log (projections see ``[erased]``), so the live rows equal what
any later rebuild gives; the local market's orders (adapter state) have their customer
number and delivery address replaced, and snapshots of other streams holding events
sealed for them too (a dealer's order message, ADR 0017) are dropped. On SQLite
(``secure_delete`` is on) the WAL is checkpointed and truncated and the file vacuumed,
so neither the key nor the old rows survive in free pages; on PostgreSQL run ``VACUUM``
so dead tuples are reclaimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from adapters.ops.erase_copies import SHARED_COPIES, drop_shared_snapshots, scrub_market_orders
from adapters.ops.rawlog import table_exists
from adapters.ops.targets import TargetError, parse_phone
from adapters.progress import Progress, silent
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import rebuild
from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore, driver_connection
from adapters.store.snapshots import delete_snapshots
from core.phones import conversation_stream


@dataclass(slots=True)
class ErasureReport:
    """What an erasure did."""

    phone_masked: str
    person_id: str
    stream: str
    rows_rebuilt: int = 0
    compacted: bool = False
    projections: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` output (the person id is meaningless once the key is gone)."""
        return {
            "phone": self.phone_masked,
            "person_id": self.person_id,
            "stream": self.stream,
            "rows_rebuilt": self.rows_rebuilt,
            "projections": self.projections,
            "compacted": self.compacted,
        }

    def line(self) -> str:
        """One line for a terminal."""
        return (
            f"erased {self.phone_masked} ({self.stream}): key deleted,"
            f" {len(self.projections)} projections rebuilt ({self.rows_rebuilt} rows)"
            + (", database compacted" if self.compacted else "")
        )


async def erase_person(
    store: EventStore, raw_phone: str, *, compact: bool = True, progress: Progress = silent
) -> ErasureReport:
    """Erase the person behind ``raw_phone`` (any usual spelling); raises TargetError.

    ``progress`` hears the projections rebuilt so far, out of all of them.
    """
    phone = parse_phone(raw_phone)
    person = await store.people.find(phone)
    if person is None:
        raise TargetError(f"no person is held for {_mask(phone)} (nothing to erase)")
    report = ErasureReport(_mask(phone), person, conversation_stream(person))
    if not await store.people.erase(person):
        raise TargetError(f"{_mask(phone)} was erased meanwhile")
    store.forget_cached()  # no key or decoded event cached from before may serve their data
    await delete_snapshots(store.engines, report.stream)  # they hold decoded chat lines
    await drop_shared_snapshots(store, person)  # e.g. a dealer's, holding their address
    await scrub_market_orders(store, (phone, phone.removeprefix("+"), person))
    projections = all_projections()
    for step, projection in enumerate(projections, start=1):
        done = await rebuild(store, projection)
        report.rows_rebuilt += done.rows
        report.projections.append(projection.name)
        progress(step, len(projections))
    if compact:
        report.compacted = await compact_storage(store)
    return report


async def compact_storage(store: EventStore) -> bool:
    """SQLite: fold the WAL into the file, truncate it and VACUUM; PostgreSQL: VACUUM."""
    if store.dialect == "sqlite":
        async with store.engines.writer.connect() as conn:
            driver = await driver_connection(conn)
            await driver.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            await driver.execute_fetchall("VACUUM")
            await driver.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
        return True
    async with store.engines.writer.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("person_keys", "events", *TABLES, *SHARED_COPIES):
            if await table_exists(store.engines, table):
                await conn.execute(text(f"VACUUM {table}"))
    return True


def _mask(phone: str) -> str:
    return phone[:3] + "*" * max(0, len(phone) - 6) + phone[-3:]
