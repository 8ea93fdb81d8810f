"""The reading side of a dispatcher that follows only its process's partitions.

A :class:`PartitionFeed` keeps one cursor and one checkpoint per owned partition
(``reactor:<name>:p<N>``), so a partition carries its progress from one worker to the
next. A partition newly owned starts at its checkpoint, or at the reactor's global
checkpoint (``reactor:<name>``) when it has none yet: that one covers every partition
(a database followed before partitioning, or a partition never taken). The feed reads
from the lowest cursor among the owned partitions and hands on only the events each
partition has not seen; a partition given away is forgotten (its events in flight still
finish under their stream leases, and a checkpoint saved afterwards only repeats what
this process handled).

Shared streams (the catalogue and the contacts) are read by every worker whatever their
partition: each process keeps its own copy of what they hold (``LiveMarket``), and a
stock change must reach every worker's conversations, not only its partition owner's.
They have a cursor and a checkpoint of their own (``reactor:<name>:shared``).

Positions commit in order (ADR 0001), so a read that returns less than asked has seen
every owned event up to the position announced before it started: the cursors move to
that position even when none of the new events were ours, and a wake-up caused by
another partition's events costs one index probe, not a busy loop. A worker that holds
every partition reads through the store's shared tail (``read_all``), which answers as
the database would, read-your-writes included (``adapters/store/tail_cache.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from adapters.engine.partitions import PartitionOwner
from adapters.store.event_store import EventStore
from core.partitions import partition_of
from events.base import RecordedEvent

SHARED = -1  # the cursor key of the shared streams (partitions are 0 and up)


class PartitionFeed:
    """Per-partition cursors, in-flight positions and checkpoints; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        owner: PartitionOwner,
        checkpoint_name: str,
        shared: Sequence[str] = (),
    ) -> None:
        self.store, self.owner, self.checkpoint_name = store, owner, checkpoint_name
        self.shared = tuple(shared)
        self.cursors: dict[int, int] = {}
        self._saved: dict[int, int] = {}
        self._flight: dict[int, set[int]] = {}
        self._keys: dict[int, int] = {}  # the cursor key of each position in flight
        self._of: dict[str, int] = {}  # partition by stream, memoised: asked per event
        self.read_events = 0  # events read from the database: the decoding this worker did

    def partition(self, stream: str) -> int:
        """The partition of ``stream``."""
        p = self._of.get(stream)
        if p is None:
            if len(self._of) > 100_000:
                self._of.clear()
            p = self._of[stream] = partition_of(stream, self.owner.count)
        return p

    def low(self) -> int:
        """The lowest cursor among the owned partitions and the shared streams (0: none)."""
        return min(self.cursors.values(), default=0)

    def key(self, stream: str) -> int:
        """The cursor that ``stream``'s events move: its partition's if owned, else SHARED."""
        p = self.partition(stream)
        return p if p in self.cursors else SHARED

    async def read(self, limit: int) -> tuple[bool, list[RecordedEvent]]:
        """(whether more may follow, the owned events not handed on yet), in log order."""
        await self._follow()
        if not self.cursors:
            return False, []
        owned, low = tuple(self.cursors), self.low()
        announced = self.store.notifier.position  # committed before the read starts
        partitions = [p for p in owned if p != SHARED]
        if len(partitions) == self.owner.count:
            # Every partition is ours (one worker, the usual case): the log's shared tail
            # holds exactly these events, read and decoded once for every follower of the
            # process, where a partition read would read and decode them again per reactor.
            batch = await self.store.read_all(low, limit)
        else:
            batch = await self.store.read_partitions(low, limit, partitions, streams=self.shared)
        self.read_events += len(batch)
        fresh = [e for e in batch if e.position > self.cursors[self.key(e.stream)]]
        full = len(batch) >= limit
        reached = batch[-1].position if full else max(announced, batch[-1].position if batch else 0)
        for p in owned:
            self.cursors[p] = max(self.cursors[p], reached)
        return full, fresh

    async def _follow(self) -> None:
        owned = self.owner.owned() | ({SHARED} if self.shared else set())
        for gone in set(self.cursors) - owned:
            del self.cursors[gone]
            self._saved.pop(gone, None)
        new = owned - set(self.cursors)
        if not new:
            return
        fallback = await self.store.load_checkpoint(self.checkpoint_name)
        for p in sorted(new):
            start = await self.store.load_checkpoint(self._checkpoint(p))
            self.cursors[p] = self._saved[p] = max(start, fallback)

    def _checkpoint(self, key: int) -> str:
        return f"{self.checkpoint_name}:{'shared' if key == SHARED else f'p{key}'}"

    def enqueued(self, event: RecordedEvent) -> None:
        """``event`` was handed to a worker: its cursor's checkpoint stays below it."""
        key = self._keys[event.position] = self.key(event.stream)
        self._flight.setdefault(key, set()).add(event.position)

    def released(self, events: Iterable[RecordedEvent]) -> None:
        """``events`` were handled (or parked)."""
        for e in events:
            key = self._keys.pop(e.position, None)
            if key is not None:
                self._flight[key].discard(e.position)

    def safe(self, p: int) -> int:
        """The highest position of partition ``p`` below which everything is handled."""
        flight = self._flight.get(p)
        return min(flight) - 1 if flight else self.cursors[p]

    def safe_position(self) -> int:
        """The lowest safe position among the owned partitions."""
        return min((self.safe(p) for p in self.cursors), default=0)

    async def save(self) -> None:
        """Save every owned partition's checkpoint that moved, in one transaction."""
        moved = {p: s for p in self.cursors if (s := self.safe(p)) > self._saved.get(p, 0)}
        if not moved:
            return
        async with self.store.transaction() as conn:
            for p, position in moved.items():
                await self.store.save_checkpoint(self._checkpoint(p), position, conn)
        self._saved.update(moved)
