"""Folded stream state kept in memory: read only the events after the cached version.

A reactor handles a stream's turns one at a time (the dispatcher's lanes, the leases
across processes), so what it folded from a stream at version ``v`` is still right at
``v``: the next turn only needs the events after ``v``. :class:`StreamCache` keeps, per
stream, the folded value and its version in a bounded LRU; :meth:`StreamCache.load`
reads the tail after the cached version (``read_stream(after_version=v)``, an index
range), folds it and stores the result. A miss starts from a stored snapshot when a
:class:`~adapters.store.snapshots.Snapshots` store is given (and the snapshot's schema
matches), else from the beginning; either way the log decides, the cache only saves
reading it again.

The cache never holds anything the log does not: values change only by folding stored
events in version order. After an erasure (``EventStore.forget_cached``) it is emptied,
as the store's own caches are, so no decoded personal data outlives the key.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import structlog

from adapters.store.event_store import EventStore
from events.base import RecordedEvent

log = structlog.get_logger(__name__)

M = TypeVar("M")
DEFAULT_CAPACITY = 5_000  # streams kept per reactor (settings: STATE_CACHE_STREAMS)


@dataclass(frozen=True, slots=True)
class Folding(Generic[M]):
    """How to build a stream's value: where it starts and how one stored event changes it."""

    start: Callable[[str], M]
    apply: Callable[[M, RecordedEvent], M]


class SnapshotSource(Protocol[M]):
    """Where a cache miss may start from instead of version 0."""

    async def load(self, stream: str) -> tuple[M, int] | None:
        """The latest usable snapshot of ``stream`` and its version, or None."""

    async def save(self, stream: str, value: M, version: int) -> None:
        """Store ``value`` as the state of ``stream`` at ``version``."""

    def keeps(self, value: M) -> bool:
        """True when ``value`` may be stored (a conversation between two turns)."""


class StreamCache(Generic[M]):
    """A bounded LRU of (folded value, version) per stream; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        folding: Folding[M],
        *,
        capacity: int = DEFAULT_CAPACITY,
        snapshots: SnapshotSource[M] | None = None,
        snapshot_every: int = 500,
    ) -> None:
        self.store, self.folding, self.capacity = store, folding, max(1, capacity)
        self.snapshots, self.snapshot_every = snapshots, snapshot_every
        # stream -> (value, version, version of its latest stored snapshot)
        self._entries: OrderedDict[str, tuple[M, int, int]] = OrderedDict()
        self.hits = self.misses = self.folded = 0
        store.on_forget.append(_weakly(weakref.WeakMethod(self.clear)))

    def clear(self) -> None:
        """Forget every stream (an erasure happened, or a test wants cold starts)."""
        self._entries.clear()

    def forget(self, stream: str) -> None:
        """Forget one stream: its next load starts from a snapshot or the beginning."""
        self._entries.pop(stream, None)

    async def load(self, stream: str) -> tuple[M, int]:
        """The value of ``stream`` folded up to its current version, and that version."""
        value, version, snapped = await self._cached_or_start(stream)
        tail = await self.store.read_stream(stream, after_version=version)
        apply, keeps = self.folding.apply, self.snapshots.keeps if self.snapshots else None
        storable: tuple[M, int] | None = None  # the latest value a snapshot may hold
        for event in tail:
            value = apply(value, event)
            if keeps is not None and keeps(value):
                storable = (value, event.version)
        self.folded += len(tail)
        new_version = tail[-1].version if tail else version
        if storable is not None and storable[1] - snapped >= self.snapshot_every:
            snapped = await self._save(stream, *storable) or snapped
        self._put(stream, value, new_version, snapped)
        return value, new_version

    async def _save(self, stream: str, value: M, version: int) -> int | None:
        """Store a snapshot; a failure only costs a longer fold after the next restart."""
        assert self.snapshots is not None
        try:
            await self.snapshots.save(stream, value, version)
        except Exception as exc:
            log.warning("snapshot.save_failed", stream_version=version, error=str(exc)[:200])
            return None
        return version

    async def _cached_or_start(self, stream: str) -> tuple[M, int, int]:
        entry = self._entries.get(stream)
        if entry is not None:
            self.hits += 1
            self._entries.move_to_end(stream)
            return entry
        self.misses += 1
        if self.snapshots is not None and (found := await self._snapshot(stream)):
            return found[0], found[1], found[1]
        return self.folding.start(stream), 0, 0

    async def _snapshot(self, stream: str) -> tuple[M, int] | None:
        assert self.snapshots is not None
        try:
            return await self.snapshots.load(stream)
        except Exception as exc:  # unreadable or stale: the log is always there
            log.warning("snapshot.load_failed", error=str(exc)[:200])
            return None

    def _put(self, stream: str, value: M, version: int, snapped: int) -> None:
        self._entries[stream] = (value, version, snapped)
        self._entries.move_to_end(stream)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


def _weakly(ref: weakref.WeakMethod[Callable[[], None]]) -> Callable[[], None]:
    """Call the cache's ``clear`` while the cache lives; the store must not keep it alive."""

    def call() -> None:
        method = ref()
        if method is not None:
            method()

    return call
