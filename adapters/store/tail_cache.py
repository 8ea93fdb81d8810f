"""A shared tail of the log: one database read serves every follower in the process.

The conversation, outbox, order and notification dispatchers, the projections runner,
the hash-chain sealer and the metrics tail all follow the global log near its head.
Without sharing, each of them reads and decodes every event again. The cache keeps the
most recent events exactly as the database returned them: a contiguous run covering
the positions ``(floor, head]``. A follower asking for events after a position inside
that run is served from memory; one asking at the head triggers a single database read
(under a lock, so concurrent followers wait for it rather than repeat it) that extends
the run. Reads elsewhere (a rebuild from position 0) go straight to the database.

This is safe because a reader following ``position > p`` never misses a late commit
(ADR 0001): whatever the database returned after the head is everything there is up to
the last position returned, so the run never needs correcting.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable

from events.base import RecordedEvent

Fetch = Callable[[int, int], Awaitable[list[RecordedEvent]]]


class TailCache:
    """The most recent events of the log, shared by the followers of one process."""

    def __init__(
        self, fetch: Fetch, *, capacity: int = 20_000, committed: Callable[[], int] | None = None
    ) -> None:
        self._fetch = fetch
        # The position known committed (the store's notifier): a run whose head reached it
        # holds every write that finished before a follower asked.
        self._committed = committed
        self._capacity = capacity
        self._events: list[RecordedEvent] = []
        self._positions: list[int] = []
        self._floor: int | None = None  # the run covers (floor, head]
        self._head = 0
        self._lock = asyncio.Lock()
        self._begun = 0  # head reads started so far
        self._done = 0  # head reads finished so far
        self._last_begun = 0  # the start number of the last head read that finished
        self._at_end = False  # the last head read returned less than asked: it saw the end
        self.hits = 0
        self.misses = 0

    def clear(self) -> None:
        """Forget every cached event (they were decoded with keys since deleted)."""
        self._events, self._positions = [], []
        self._floor, self._head, self._at_end = None, 0, False

    async def read_all(self, after: int, limit: int) -> list[RecordedEvent]:
        """The same answer as the database's ``read_all(after, limit)``."""
        if self._covers(after):
            arrived, finished = self._begun, self._done
            target = self._committed() if self._committed is not None else None
            async with self._lock:
                # Checked again: while we waited, a restart or a trim may have moved the
                # run past ``after``; a slice then would skip events, or repeat them.
                if self._covers(after):
                    found = self._slice(after, limit) if after < self._head else []
                    fresh = self._done != finished and (
                        self._last_begun > arrived or (target is not None and self._head >= target)
                    )
                    if len(found) < limit and not (fresh and self._at_end):
                        # The run ends before the limit: read on from the head, unless a
                        # head read finished while we waited, reached the end of the log, and
                        # either started after we arrived or reached the position committed
                        # when we arrived (its snapshot is then as valid as a new one, and
                        # costs nothing). With no read while we waited, always read: a writer
                        # in another process is not in our committed position. A read
                        # already in flight when we arrived may predate a commit our caller
                        # made just before asking: trusting it blindly hid the caller's own
                        # write (read-your-writes).
                        found += await self._extend(self._head, limit - len(found))
                    return found
        self.misses += 1
        batch = await self._fetch(after, limit)
        # Under the lock: a head read in flight would otherwise append its events, read
        # from the old head, behind this new run (positions out of order, some twice).
        async with self._lock:
            if self._floor is None or after > self._head:
                self._restart(after, batch)
        return batch

    def _covers(self, after: int) -> bool:
        return self._floor is not None and self._floor <= after <= self._head

    def _slice(self, after: int, limit: int) -> list[RecordedEvent]:
        self.hits += 1
        start = bisect.bisect_right(self._positions, after)
        return self._events[start : start + limit]

    async def _extend(self, after: int, limit: int) -> list[RecordedEvent]:
        self.misses += 1
        self._begun += 1
        began = self._begun
        batch = await self._fetch(after, limit)
        self._last_begun = began
        self._done += 1
        self._at_end = len(batch) < limit
        if batch:
            self._events.extend(batch)
            self._positions.extend(e.position for e in batch)
            self._head = batch[-1].position
            self._trim()
        return batch

    def _restart(self, after: int, batch: list[RecordedEvent]) -> None:
        self._events = list(batch)
        self._positions = [e.position for e in batch]
        self._floor = after
        self._head = batch[-1].position if batch else after
        self._trim()

    def _trim(self) -> None:
        excess = len(self._events) - self._capacity
        if excess > 0:
            self._floor = self._positions[excess - 1]
            del self._events[:excess]
            del self._positions[:excess]
