"""Per-stream leases: several processes share reactor work, one stream at a time.

Every process follows the whole log, so two processes see the same conversation. Before
a reactor handles a stream's turn it takes the lease ``<reactor>:<stream>``; whoever
holds it does the turn, the other waits (a bounded poll) and re-checks afterwards. The
handlers are idempotent (they read the stream under the lease and skip what is done),
so the second look finds nothing left and the work is done once, in stream order.

* :class:`PgAdvisoryLeases` (PostgreSQL): session advisory locks,
  ``pg_try_advisory_lock`` on a 64-bit hash of the lease name, held on a small pool of
  dedicated connections (a session may hold many locks; a name always maps to the same
  connection so its unlock reaches the session that locked it). A process that dies
  drops its connections and PostgreSQL frees its locks at once: the others take its
  conversations over within one poll.
* :class:`FileOwnership` (SQLite): one process owns each reactor through an exclusive
  lock file; a second process on the same file ingests webhooks and waits as a hot
  standby (docs/adr/0004-multi-process-leases.md). :class:`LocalLeases` (tests): always
  granted.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.store.engine import Engines

log = structlog.get_logger(__name__)


def lease_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a lease name (BLAKE2b, stable everywhere)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leases(Protocol):
    """Exclusive, non-blocking leases by name, held until released or the process dies."""

    async def try_acquire(self, name: str) -> bool:
        """Take the lease now if free; False when someone else holds it (or on error)."""
        ...

    async def release(self, name: str) -> None:
        """Give the lease back (never raises)."""
        ...

    async def close(self) -> None:
        """Release everything and close connections."""
        ...


class LocalLeases:
    """Leases for a single process: always granted (the dispatcher already runs one
    worker per stream)."""

    async def try_acquire(self, name: str) -> bool:
        """Always True."""
        return True

    async def release(self, name: str) -> None:
        """Nothing to do."""

    async def close(self) -> None:
        """Nothing to do."""


class _Session:
    """One dedicated connection and the lock serialising its use."""

    def __init__(self) -> None:
        self.conn: AsyncConnection | None = None
        self.raw: Any = None
        self.busy = asyncio.Lock()


class PgAdvisoryLeases:
    """Session advisory locks on ``connections`` dedicated PostgreSQL connections."""

    def __init__(self, engine: AsyncEngine, *, connections: int = 4) -> None:
        if connections < 1:
            raise ValueError(f"connections must be at least 1, got {connections}")
        self._engine = engine
        self._sessions = [_Session() for _ in range(connections)]

    def _session_for(self, key: int) -> _Session:
        return self._sessions[key % len(self._sessions)]

    async def try_acquire(self, name: str) -> bool:
        """``pg_try_advisory_lock``; a broken connection counts as "not now" (retried)."""
        key = lease_key(name)
        session = self._session_for(key)
        async with session.busy:
            try:
                raw = await self._open(session)
                return bool(await raw.fetchval("SELECT pg_try_advisory_lock($1)", key))
            except Exception as exc:
                log.warning("lease.acquire_failed", lease=name, error=str(exc)[:200])
                await self._discard(session)
                return False

    async def release(self, name: str) -> None:
        """``pg_advisory_unlock``; if the connection broke, the lock is already gone."""
        key = lease_key(name)
        session = self._session_for(key)
        async with session.busy:
            if session.raw is None:
                return
            try:
                await session.raw.fetchval("SELECT pg_advisory_unlock($1)", key)
            except Exception as exc:
                log.warning("lease.release_failed", lease=name, error=str(exc)[:200])
                await self._discard(session)

    async def close(self) -> None:
        """Close every connection (PostgreSQL frees their locks)."""
        for session in self._sessions:
            async with session.busy:
                await self._discard(session)

    async def _open(self, session: _Session) -> Any:
        if session.raw is None:
            session.conn = await self._engine.connect()
            fairy = await session.conn.get_raw_connection()
            session.raw = fairy.driver_connection
        return session.raw

    async def _discard(self, session: _Session) -> None:
        conn, session.conn, session.raw = session.conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()


class FileOwnership:
    """Leases on SQLite: an exclusive ``flock`` on ``<database>.<reactor>.lock``.

    One process owns a reactor on a SQLite file; every lease is granted to it and
    refused to the others, which wait as hot standbys. The kernel drops the lock when
    the owner dies, so a standby takes over at its next poll without cleanup.
    """

    def __init__(self, database_path: str | Path, reactor: str) -> None:
        self.path = Path(f"{database_path}.{reactor}.lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take ownership now, or return False when another process holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        log.info("lease.file_owned", path=str(self.path))
        return True

    async def try_acquire(self, name: str) -> bool:
        """Granted exactly when this process owns the file."""
        return self.acquire()

    async def release(self, name: str) -> None:
        """Ownership is kept between turns."""

    async def close(self) -> None:
        """Give ownership up."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leases_for(engines: Engines, reactor: str) -> Leases:
    """Advisory-lock leases on PostgreSQL, file ownership on SQLite."""
    if engines.dialect == "postgresql":
        return PgAdvisoryLeases(engines.writer, connections=2)
    database = engines.writer.url.database
    return FileOwnership(database, reactor) if database else LocalLeases()
