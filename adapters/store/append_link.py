"""The PostgreSQL append transaction on a pooled connection, kept or checked out per commit.

Each checkout from SQLAlchemy's pool costs three round trips before any work
(``pool_pre_ping`` on asyncpg is BEGIN, an empty query and ROLLBACK) plus the pool's own
bookkeeping on the event loop. The group committer's writer appends one batch after
another, so it keeps ONE connection for as long as it runs (:class:`AppendLink`): a
commit is then three round trips and COMMIT (:data:`~adapters.store.append_sql.PG_BEGIN`
with the append lock, the lookup, the insert).

A kept connection is not pinged, so it may have died while idle (a restarted server, a
terminated backend). The first round trip tells: when it fails nothing has been written,
and the commit is tried once more on a fresh checkout, which the pool pings as before.
A connection that fails later, or is left inside a transaction, is invalidated, never
reused or returned to the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.store.append_sql import PG_BEGIN, driver_connection, pg_commit, pg_dirty
from adapters.store.encoding import EncodedUnit

Done = tuple[list[Any], Sequence[int]]


async def commit_pooled(
    engine: AsyncEngine, units: Sequence[EncodedUnit], recorded_at: datetime, count: int
) -> Done:
    """One append transaction on a connection checked out for it (and pinged) from the pool."""
    async with engine.connect() as conn:
        driver = await driver_connection(conn)
        try:
            await driver.execute(PG_BEGIN)
            return await pg_commit(driver, units, recorded_at, count)
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
        """One append transaction on the kept connection (checked out on first use)."""
        self.busy = True
        try:
            if not await self._begin_kept():
                self._conn = await self._engine.connect()  # pinged by the pool
                self._driver = await driver_connection(self._conn)
                await self._driver.execute(PG_BEGIN)
            return await pg_commit(self._driver, units, recorded_at, count)
        except BaseException:
            await self._drop(invalidate=True)  # rare (a database failure): start afresh
            raise
        finally:
            self.busy = False

    async def close(self) -> None:
        """Give the connection back to the pool (idle between commits: nothing to undo)."""
        await self._drop(invalidate=False)

    async def _begin_kept(self) -> bool:
        """PG_BEGIN on the kept connection; False when there is none or it is dead."""
        if self._driver is None:
            return False
        try:
            await self._driver.execute(PG_BEGIN)
        except Exception:  # whatever failed, nothing was written: try afresh
            await self._drop(invalidate=True)
            return False
        return True

    async def _drop(self, *, invalidate: bool) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is None:
            return
        try:
            if invalidate:
                await conn.invalidate()
        finally:
            await conn.close()
