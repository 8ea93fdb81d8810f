"""Whose turn it is to write a SQLite file: a kernel lock taken around each write transaction.

SQLite lets one connection write at a time and makes the others wait in its busy
handler, which sleeps (1, 2, 5 ... up to 100 ms) and retries. A process that commits
back to back (the worker's projections and reactors) frees the lock for microseconds
between its transactions, so a waiter that sleeps keeps missing it: the webhook's commits
queued behind the worker for seconds (``bench ingest``: the web process idle at 0.16 of a
core while its p99 passed 1.6 s). An exclusive ``flock`` on ``<database>.writer.lock``
taken before ``BEGIN IMMEDIATE`` and dropped when the transaction ends makes the kernel
wake the waiter the moment the holder lets go; the busy handler stays as the fallback for
writers that do not take the lock (``sqlite3`` shells, backups).

One lock object per file and process: transactions in one process are already serialised
by its single writer connection, and sharing the descriptor means two engines of one
process on the same file never block each other here (they fall back to the busy
handler as before), so this lock can never deadlock a process with itself.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class WriteTurn:
    """The cross-process write lock of one SQLite database file."""

    def __init__(self, database: str) -> None:
        self.path = Path(f"{database}.writer.lock")
        self._fd: int | None = None
        self._open_lock = threading.Lock()

    def acquire(self) -> None:
        """Block (the calling driver thread) until no other process writes."""
        fcntl.flock(self._descriptor(), fcntl.LOCK_EX)

    def release(self) -> None:
        """Let the next process write (a no-op when nothing is held)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _descriptor(self) -> int:
        with self._open_lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            return self._fd


_TURNS: dict[str, WriteTurn] = {}
_TURNS_LOCK = threading.Lock()


def write_turn(database: str | None) -> WriteTurn | None:
    """The process's one :class:`WriteTurn` for the file at ``database`` (None in memory)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = os.path.realpath(database)
    with _TURNS_LOCK:
        turn = _TURNS.get(key)
        if turn is None:
            turn = _TURNS[key] = WriteTurn(key)
        return turn
