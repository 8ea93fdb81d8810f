"""Worker processes share the log's partitions through PostgreSQL advisory locks.

Every event row carries its stream's partition (``adapters.store.partitioning``). A
worker process holds a fair share of the partitions and its reactors read only their
events, so adding a worker divides the reading and decoding
(docs/adr/0018-partitioned-workers.md):

* One dedicated connection per process holds every lock as a session lock: a member
  lock ``(members, <random id>)`` that says "a worker is alive" and one lock
  ``(partitions, p)`` per partition held. A process that dies closes its socket (the
  kernel does, even on SIGKILL); PostgreSQL ends the session and frees all its locks at
  once.
* Every ``interval`` seconds :meth:`PartitionOwner.rebalance` counts the live members
  (granted member locks in ``pg_locks``), gives back what is above its fair share
  (ceil(partitions / members)) and tries to take free partitions up to it. A newcomer
  therefore gets its share within about two intervals, and a dead worker's partitions
  are taken within one.
* The namespaces of both lock kinds are hashes of the database and schema, so tests on
  schemas of one server, and services on databases of one server, never share locks.

A partition moving between two live workers may still have a turn in flight at the old
owner: the per-stream leases (ADR 0004) keep serialising turns, so the new owner's
idempotent handlers find the work done. A broken lock connection means no partitions
until it is reopened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.partitions import check_count, fair_share

log = structlog.get_logger(__name__)

_WHERE_AM_I = "SELECT current_database(), current_schema()"
_LIVE = """
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::int::oid
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
_TRY = "SELECT pg_try_advisory_lock($1::int, $2::int)"
_UNLOCK = "SELECT pg_advisory_unlock($1::int, $2::int)"


def namespace(place: str, kind: str) -> int:
    """A non-negative 32-bit lock namespace for ``kind`` locks of database/schema ``place``."""
    digest = hashlib.blake2b(f"{place}:{kind}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF


class PartitionOwner:
    """Holds this process's fair share of ``count`` partitions; see the module docstring."""

    def __init__(self, engine: AsyncEngine, count: int, *, interval: float = 1.0) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.count = check_count(count)
        self.interval = interval
        self._engine = engine
        self._member = secrets.randbelow(2**31)
        self._conn: AsyncConnection | None = None
        self._raw: Any = None
        self._partitions_ns = self._members_ns = 0
        self._owned: frozenset[int] = frozenset()
        self._task: asyncio.Task[None] | None = None
        self._busy = asyncio.Lock()

    def owned(self) -> frozenset[int]:
        """The partitions held right now (empty before :meth:`start` and while disconnected)."""
        return self._owned

    async def start(self) -> None:
        """Take a first share now, then rebalance every ``interval`` in the background."""
        await self.rebalance()
        self._task = asyncio.create_task(self._keep(), name="partitions")

    async def stop(self) -> None:
        """Stop rebalancing and close the connection: every lock is freed with it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._busy:
            await self._discard()

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.rebalance()

    async def rebalance(self) -> frozenset[int]:
        """Count the live workers, give back what is above the fair share, take up to it."""
        async with self._busy:
            before = self._owned
            try:
                raw = await self._open()
                live = int(await raw.fetchval(_LIVE, self._members_ns))
                self._owned = await self._settle(raw, fair_share(self.count, live))
            except Exception as exc:
                log.warning("partitions.lost_connection", error=str(exc)[:200])
                await self._discard()
            if self._owned != before:
                log.info("partitions.changed", owned=sorted(self._owned), count=self.count)
            return self._owned

    async def _settle(self, raw: Any, share: int) -> frozenset[int]:
        owned = set(self._owned)
        for p in sorted(owned, reverse=True)[: max(0, len(owned) - share)]:
            await raw.fetchval(_UNLOCK, self._partitions_ns, p)
            owned.discard(p)
        start = self._member % self.count  # workers start their tries at different places
        for step in range(self.count):
            if len(owned) >= share:
                break
            p = (start + step) % self.count
            if p not in owned and await raw.fetchval(_TRY, self._partitions_ns, p):
                owned.add(p)
        return frozenset(owned)

    async def _open(self) -> Any:
        if self._raw is not None:
            return self._raw
        self._owned = frozenset()  # a new session holds nothing yet
        self._conn = await self._engine.connect()
        self._raw = (await self._conn.get_raw_connection()).driver_connection
        database, schema = await self._raw.fetchrow(_WHERE_AM_I)
        place = f"{database}.{schema}"
        self._partitions_ns = namespace(place, "partitions")
        self._members_ns = namespace(place, "workers")
        while not await self._raw.fetchval(_TRY, self._members_ns, self._member):
            self._member = secrets.randbelow(2**31)  # that id is another worker's
        return self._raw

    async def _discard(self) -> None:
        conn, self._conn, self._raw, self._owned = self._conn, None, None, frozenset()
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()
