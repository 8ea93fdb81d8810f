"""Wake-ups across processes on one SQLite file: watch the write-ahead log change.

PostgreSQL carries ``NOTIFY`` between processes; SQLite has nothing like it. When the
webhook and the reactors run in two processes on one file (``serve``'s split), each must
learn of the other's commits without waiting for a whole poll interval. Every commit
writes the ``-wal`` file, so a ``stat`` of it every ``interval`` seconds (a few
microseconds, no query) tells whether anything may have changed; only then is the
highest position read and announced to the local notifier. Our own commits change the
file too: announcing a position already known is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import structlog

from adapters.store.event_store import EventStore

log = structlog.get_logger(__name__)


class WalWatcher:
    """Announces positions committed by other processes on the same SQLite file."""

    def __init__(self, store: EventStore, database: Path, *, interval: float = 0.005) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.store = store
        self.wal = Path(f"{database}-wal")
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Watch in the background (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="wal-watch")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.wal)
        except OSError:
            return None  # no WAL yet (or checkpointed away): the next write recreates it
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    async def _watch(self) -> None:
        seen = self._signature()
        while True:
            await asyncio.sleep(self.interval)
            now = self._signature()
            if now == seen:
                continue
            seen = now
            try:
                self.store.notifier.notify(await self.store.last_position())
            except Exception as exc:  # the subscribers' own polls cover a failed read
                log.warning("wal_watch.read_failed", error=str(exc)[:200])
