"""The PostgreSQL append on a pooled connection, kept or checked out per commit.

Each checkout from SQLAlchemy's pool costs three round trips before any work
(``pool_pre_ping`` on asyncpg is BEGIN, an empty query and ROLLBACK) plus the pool's own
bookkeeping on the event loop. The group committer's writer appends one batch after
another, so it keeps ONE connection for as long as it runs (:class:`AppendLink`). A
batch is then two round trips: the lookup, and the insert in its own transaction
(:func:`~adapters.store.append_sql.pg_append`; docs/adr/0035-one-statement-appends.md).

A kept connection is not pinged, so it may have died while idle (a restarted server, a
terminated backend). The first round trip tells: it only reads, so when it fails
nothing has been written, and the batch is tried once more on a fresh checkout, which
the pool pings as before. A connection that fails later is invalidated, never reused or
returned to the pool."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.store.append_sql import Planned, driver_connection, pg_append, pg_dirty, pg_plan
from adapters.store.encoding import EncodedUnit

Done = tuple[list[Any], Sequence[int]]


async def commit_pooled(
    engine: AsyncEngine, units: Sequence[EncodedUnit], recorded_at: datetime, count: int
) -> Done:
    """One append transaction on a connection checked out for it (and pinged) from the pool."""
    async with engine.connect() as conn:
        driver = await driver_connection(conn)
        try:
            planned = await pg_plan(driver, units)
            return await pg_append(driver, units, planned, recorded_at, count)
        except BaseException as exc:
            if pg_dirty(driver) or isinstance(exc, asyncio.CancelledError):
                await conn.invalidate()  # closed, not returned to the pool mid-transaction
            raise


class AppendLink:
    """One pooled connection for a single writer's successive append transactions.

    Not for concurrent use: :attr:`busy` is true while a commit runs on it, and other
    appenders then take :func:`commit_pooled`.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self.busy = False

    async def commit(self, units: Sequence[EncodedUnit], recorded_at: datetime, count: int) -> Done:
        """One append on the kept connection (checked out on first use)."""
        self.busy = True
        try:
            planned = await self._plan_kept(units)
            if planned is None:
                self._conn = await self._engine.connect()  # pinged by the pool
                self._driver = await driver_connection(self._conn)
                planned = await pg_plan(self._driver, units)
            return await pg_append(self._driver, units, planned, recorded_at, count)
        except BaseException:
            await self._drop(invalidate=True)  # rare (a database failure): start afresh
            raise
        finally:
            self.busy = False

    async def close(self) -> None:
        """Give the connection back to the pool (idle between commits: nothing to undo)."""
        await self._drop(invalidate=False)

    async def _plan_kept(self, units: Sequence[EncodedUnit]) -> Planned | None:
        """The plan read on the kept connection; None when there is none or it is dead."""
        if self._driver is None:
            return None
        try:
            return await pg_plan(self._driver, units)
        except Exception:  # whatever failed, it only read: try afresh
            await self._drop(invalidate=True)
            return None

    async def _drop(self, *, invalidate: bool) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is None:
            return
        try:
            if invalidate:
                await conn.invalidate()
        finally:
            await conn.close()
