"""Group commit: many coroutines append, one writer commits them in batches.

Each caller submits a *unit* (one or more append requests that must land together, such
as a webhook delivery and the facts parsed from it) and awaits its future. A single
worker drains the queue, commits up to ``max_batch`` units in one transaction (one
fsync), and only then resolves the futures: a caller is released after its events are
durable. A failed batch fails only its own callers; the next batch starts afresh.

The queue is bounded (``max_pending`` units): when the database cannot keep up, callers
wait to enqueue instead of growing memory without limit (backpressure). A caller that
must not wait (a webhook: Meta redelivers what we refuse) passes ``wait=False`` and gets
:class:`~adapters.store.types.StoreBusyError` at once when ``max_refusing`` such units
are already in flight (queued or being committed) or the queue is full; nothing of a
refused unit is written. Only those units count towards ``max_refusing``: the reactors'
appends in the same process wait as before and never make a webhook refused.

Each caller encodes its own unit (payloads and metadata to JSON text) before queueing it,
so that CPU work is spread over the callers' coroutines and overlaps the writer's
transaction instead of lengthening it; a unit that cannot be encoded fails only its
caller, with the encoding error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.store.event_store import EncodedUnit, EventStore
from adapters.store.types import (
    AppendRequest,
    AppendResult,
    StoreBusyError,
    StoreUnavailableError,
)


@dataclass(slots=True)
class _Pending:
    unit: EncodedUnit
    future: asyncio.Future[list[AppendResult]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(slots=True)
class GroupCommitStats:
    """Counters for metrics and benchmarks."""

    batches: int = 0
    units: int = 0
    largest_batch: int = 0


class GroupCommitter:
    """Batches appends from many coroutines into few transactions."""

    def __init__(
        self,
        store: EventStore,
        *,
        max_batch: int = 256,
        max_pending: int = 4096,
        max_refusing: int = 1024,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.max_refusing = max_refusing
        self._refusing = 0  # units of ``wait=False`` callers in flight
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize=max_pending)
        self._worker: asyncio.Task[None] | None = None
        self.stats = GroupCommitStats()

    async def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="group-commit")

    async def close(self) -> None:
        """Finish every queued unit, then stop the writer."""
        if self._worker is None:
            return
        await self._queue.join()
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None

    @property
    def running(self) -> bool:
        """True while the writer task runs."""
        return self._worker is not None and not self._worker.done()

    async def append(
        self, unit: Sequence[AppendRequest], *, wait: bool = True
    ) -> list[AppendResult]:
        """Commit ``unit`` atomically with whatever else is queued; durable on return.

        ``wait=False``: raise :class:`StoreBusyError` instead of waiting (the unit is then
        not written at all) when ``max_refusing`` such units are in flight or the queue
        is full.
        """
        if self._worker is None or self._worker.done():
            raise StoreUnavailableError("the group committer is not running")
        if wait:
            await self.store.prepare_unit(unit)
            pending = _Pending(self.store.encode_unit(unit))
            await self._queue.put(pending)
            return await pending.future
        if self._refusing >= self.max_refusing or self._queue.full():
            raise StoreBusyError(f"{self._refusing} deliveries already wait for a commit")
        self._refusing += 1
        try:
            await self.store.prepare_unit(unit)
            pending = _Pending(self.store.encode_unit(unit))
            try:
                self._queue.put_nowait(pending)
            except asyncio.QueueFull:
                raise StoreBusyError("the commit queue is full") from None
            return await pending.future
        finally:
            self._refusing -= 1

    async def _run(self) -> None:
        # One connection for every batch on PostgreSQL, not a checkout (and ping) each.
        async with self.store.keep_append_connection():
            while True:
                batch = [await self._queue.get()]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                try:
                    await self._commit(batch)
                finally:
                    for _ in batch:
                        self._queue.task_done()

    async def _commit(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if not p.future.cancelled()]
        try:
            outcomes = await self.store.commit_encoded([p.unit for p in live])
        except Exception as exc:
            outcomes = [StoreUnavailableError(f"batch failed: {exc}") for _ in live]
        self.stats.batches += 1
        self.stats.units += len(live)
        self.stats.largest_batch = max(self.stats.largest_batch, len(live))
        for pending, outcome in zip(live, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, BaseException):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result(outcome)
