"""Per-stream dispatch: concurrent across streams, strictly ordered within one.

A :class:`StreamDispatcher` follows the global log from its checkpoint, hands the events
it is interested in to one worker per stream, and bounds the number of streams handled
at once. Within a stream, events that arrive while the worker waits out the debounce
window are handled together as one turn (the window restarts with each new event and is
capped). When too many events are waiting, it stops reading the log (backpressure)
rather than queueing without limit.

The checkpoint only moves past an event once every selected event at or before it has
been handled, so a crash re-delivers what was in flight; handlers must therefore be
idempotent (the reactors check the stream's state before acting). A handler that keeps
failing on a stream has its events parked (``ReactorEventParked`` in the ``parked-<name>``
stream, visible on the review queue) after bounded retries, and the stream continues.

A failure while the database itself is unreachable is not the handler's fault: it is not
counted towards parking (parking would need the database anyway). The worker gives its
lease and slot back, waits (a growing poll, capped) and tries the same turn again once
the store answers, so an outage delays turns but never drops or parks them.

Several processes: each turn runs under the lease ``<name>:<stream>``
(:mod:`adapters.engine.lease`). A worker that cannot take it gives its concurrency slot
back, waits a bounded, growing poll and tries again, until the holder finishes (or dies
and PostgreSQL frees its lock); the idempotent handler then finds the work done.
Worker processes on PostgreSQL divide the log: :meth:`follow_partitions` (ADR 0018).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import structlog

from adapters.engine.lease import Leases, LocalLeases
from adapters.engine.parking import parked_events, pending_parked
from adapters.engine.partition_feed import PartitionFeed
from adapters.engine.partitions import PartitionOwner
from adapters.store.event_store import EventStore
from adapters.store.notify import Gather
from adapters.store.types import Expect
from events.base import NewEvent, RecordedEvent
from events.engine import ParkedEventReprocessed, ReactorEventParked

log = structlog.get_logger(__name__)
Handle = Callable[[str, Sequence[RecordedEvent]], Awaitable[None]]
Select = Callable[[RecordedEvent], bool]


@dataclass(slots=True)
class _Lane:
    events: list[RecordedEvent] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    """Tuning: concurrency, backpressure, debounce and retry bounds."""

    concurrency: int = 64  # streams handled at once
    max_pending: int = 10_000  # selected events waiting before reading pauses
    debounce: float = 0.0  # seconds of quiet before a stream's turn is handled
    debounce_cap: float = 10.0  # a turn waits at most this long from its first event
    attempts: int = 3  # handler tries before parking
    retry_delay: float = 0.2  # first retry delay, doubled each time
    poll_interval: float = 1.0
    batch_size: int = 500
    lease_poll: float = 0.02  # first wait for a lease held elsewhere, doubled each time
    lease_poll_cap: float = 0.5  # longest wait between two tries
    checkpoint_interval: float = 1.0  # while running, save the checkpoint at most this often
    min_interval: float = 0.05  # woken during a burst, read the log at most this often
    outage_poll_cap: float = 2.0  # longest wait between two tries while the store is down


class StreamDispatcher:
    """Feeds selected events to per-stream handlers; see the module docstring."""

    def __init__(
        self,
        store: EventStore,
        name: str,
        select: Select,
        handle: Handle,
        options: DispatchOptions | None = None,
        *,
        leases: Leases | None = None,
    ) -> None:
        self.store, self.name, self.select, self.handle = store, name, select, handle
        self.options = options or DispatchOptions()
        self.leases: Leases = leases or LocalLeases()
        self._lanes: dict[str, _Lane] = {}
        self._in_flight: set[int] = set()
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._room = asyncio.Condition()
        self._cursor = 0
        self._saved = 0
        self._saved_at = float("-inf")  # loop time of the last save while running
        self._task: asyncio.Task[None] | None = None
        self.parked = 0
        self.handled = 0
        self._stopping = False
        self.feed: PartitionFeed | None = None
        self._gather = Gather(self.options.min_interval)

    def follow_partitions(self, owner: PartitionOwner, shared: Sequence[str] = ()) -> None:
        """Read only ``owner``'s partitions' events and ``shared``'s (before :meth:`start`)."""
        self.feed = PartitionFeed(self.store, owner, self.checkpoint_name, shared)

    @property
    def checkpoint_name(self) -> str:
        """The subscription name under which progress is saved."""
        return f"reactor:{self.name}"

    def start(self) -> None:
        """Run in the background."""
        self._task = asyncio.create_task(self._run(), name=f"dispatch:{self.name}")

    async def stop(self) -> None:
        """Stop reading, let workers finish what they hold, save the checkpoint, free leases."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.drain()
        except Exception as exc:
            log.warning("reactor.stop_incomplete", reactor=self.name, error=str(exc)[:200])
        await self.leases.close()

    def abort(self) -> None:
        """Cancel the turns in progress (shutdown past its grace); the checkpoint stays
        below them, so a restart hands them out again."""
        self._stopping = True
        for lane in self._lanes.values():
            if lane.task is not None:
                lane.task.cancel()

    async def drain(self) -> None:
        """Wait until every dispatched event is handled, then save the checkpoint."""
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._save_checkpoint()

    async def run_until_idle(self) -> None:
        """Dispatch everything committed so far and wait for it (tests, scripts)."""
        self._cursor = await self.store.load_checkpoint(self.checkpoint_name)
        while await self._read_once():
            pass
        await self.drain()

    async def _run(self) -> None:
        loaded = False
        while not self._stopping:
            try:
                if not loaded and self.feed is None:
                    self._cursor = await self.store.load_checkpoint(self.checkpoint_name)
                    loaded = True
                if not await self._read_once():
                    await self._save_checkpoint_now_and_then()
                    await self._idle()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reactor.read_failed", reactor=self.name, error=str(exc)[:200])
                await asyncio.sleep(self.options.poll_interval)

    async def _idle(self) -> None:
        """Wait for new events, or a poll interval (always, while no partition is held)."""
        if self.feed is not None and not self.feed.cursors:
            await asyncio.sleep(self.options.poll_interval)
        else:
            await self.store.notifier.wait(self._cursor, self.options.poll_interval)
        await self._gather.pause()

    async def _read_once(self) -> bool:
        async with self._room:
            await self._room.wait_for(lambda: len(self._in_flight) < self.options.max_pending)
        if self.feed is not None:
            more, fresh = await self.feed.read(self.options.batch_size)
            for event in fresh:
                if self.select(event):
                    self.feed.enqueued(event)
                    self._enqueue(event)
            self._cursor = self.feed.low()
            return more
        batch = await self.store.read_all(self._cursor, self.options.batch_size)
        for event in batch:
            if self.select(event):
                self._enqueue(event)
            self._cursor = event.position
        return bool(batch)

    def _enqueue(self, event: RecordedEvent) -> None:
        self._in_flight.add(event.position)
        lane = self._lanes.setdefault(event.stream, _Lane())
        lane.events.append(event)
        lane.arrived.set()
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._work(event.stream, lane))

    async def _work(self, stream: str, lane: _Lane) -> None:
        while lane.events:
            await self._debounce(lane)
            turn, lane.events = lane.events, []
            if not await self._handle_leased(stream, turn):
                lane.events[:0] = turn  # stopping: left unhandled, the checkpoint stays below
                return
            await self._release(turn)
        if self._lanes.get(stream) is lane and not lane.events:
            del self._lanes[stream]

    async def _debounce(self, lane: _Lane) -> None:
        window, cap = self.options.debounce, self.options.debounce_cap
        if window <= 0:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cap
        while (left := min(window, deadline - loop.time())) > 0:
            lane.arrived.clear()
            try:
                async with asyncio.timeout(left):  # not wait_for: see store.notify
                    await lane.arrived.wait()
            except TimeoutError:
                return

    async def _handle_leased(self, stream: str, turn: list[RecordedEvent]) -> bool:
        """Handle ``turn`` holding the stream's lease; wait (bounded polls) while another has it.

        Returns False, leaving the turn unhandled, when the dispatcher stops while waiting.
        """
        lease, delay = f"{self.name}:{stream}", self.options.lease_poll
        outage_delay = self.options.retry_delay
        while not self._stopping:
            store_down = False
            async with self._slots:
                if await self.leases.try_acquire(lease):
                    try:
                        if await self._handle_with_retries(stream, turn):
                            return True
                        store_down = True
                    finally:
                        await self.leases.release(lease)
            if store_down:  # wait outside the lease and the slot, then try the turn again
                await asyncio.sleep(outage_delay)
                outage_delay = min(outage_delay * 2, self.options.outage_poll_cap)
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.options.lease_poll_cap)
        return False

    async def _handle_with_retries(self, stream: str, turn: list[RecordedEvent]) -> bool:
        """Handle or park ``turn`` (True); False when the store became unreachable."""
        delay = self.options.retry_delay
        for attempt in range(1, self.options.attempts + 1):
            try:
                await self.handle(stream, turn)
                self.handled += len(turn)
                return True
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if not await self._store_reachable():
                    log.warning("reactor.store_unavailable", reactor=self.name, error=error[:200])
                    return False
                log.warning(
                    "reactor.handler_failed", reactor=self.name, attempt=attempt, error=error
                )
                if attempt == self.options.attempts:
                    return await self._try_park(stream, turn, exc)
                await asyncio.sleep(delay)
                delay *= 2
        return True  # not reached: the last attempt returns above

    async def _store_reachable(self) -> bool:
        """True when the event store answers a trivial read."""
        try:
            await self.store.last_position()
        except Exception:
            return False
        return True

    async def _try_park(self, stream: str, turn: list[RecordedEvent], exc: Exception) -> bool:
        try:
            await self._park(stream, turn, exc)
        except Exception as park_error:
            log.warning("reactor.park_failed", reactor=self.name, error=str(park_error)[:200])
            return False
        return True

    async def _park(self, stream: str, turn: list[RecordedEvent], exc: Exception) -> None:
        parked = parked_events(self.name, stream, turn, exc)
        await self.store.append(f"parked-{self.name}", Expect.ANY, parked)
        self.parked += len(turn)

    async def _release(self, turn: list[RecordedEvent]) -> None:
        if self.feed is not None:
            self.feed.released(turn)
        async with self._room:
            self._in_flight.difference_update(e.position for e in turn)
            self._room.notify_all()

    async def reprocess(
        self, position: int | None = None, *, lease_timeout: float = 10.0
    ) -> list[ParkedEventReprocessed]:
        """Re-drive parked events (all still pending, or the one at ``position``) once each.

        Each runs under its stream's lease; the outcome is appended to ``parked-<name>``
        as ``ParkedEventReprocessed``. A parked event counts as pending until a re-drive
        succeeds.
        """
        outcomes = []
        for parked in await self._parked(position):
            outcome = await self._redrive(parked, lease_timeout)
            await self.store.append(
                f"parked-{self.name}",
                Expect.ANY,
                [NewEvent(event_id=uuid.uuid4(), payload=outcome)],
            )
            outcomes.append(outcome)
        return outcomes

    async def _parked(self, position: int | None) -> list[ReactorEventParked]:
        return pending_parked(await self.store.read_stream(f"parked-{self.name}"), position)

    async def _redrive(
        self, parked: ReactorEventParked, lease_timeout: float
    ) -> ParkedEventReprocessed:
        def outcome(error: str | None) -> ParkedEventReprocessed:
            return ParkedEventReprocessed(
                reactor=self.name, position=parked.position, succeeded=error is None, error=error
            )

        found = await self.store.read_all(parked.position - 1, 1)
        original = found[0] if found else None
        if original is None or original.position != parked.position:
            return outcome(f"no event at position {parked.position}")
        lease = f"{self.name}:{parked.stream}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lease_timeout
        while not await self.leases.try_acquire(lease):
            if loop.time() >= deadline:
                return outcome(f"lease {lease} is held by a running process")
            await asyncio.sleep(self.options.lease_poll_cap)
        try:
            await self.handle(parked.stream, [original])
        except Exception as exc:
            return outcome(f"{type(exc).__name__}: {exc}"[:500])
        finally:
            await self.leases.release(lease)
        return outcome(None)

    def safe_position(self) -> int:
        """The highest position below which everything selected has been handled."""
        if self.feed is not None:
            return self.feed.safe_position()
        if not self._in_flight:
            return self._cursor
        return min(self._in_flight) - 1

    async def _save_checkpoint_now_and_then(self) -> None:
        """While running, at most one checkpoint write per ``checkpoint_interval``.

        Under load the dispatcher is briefly idle many times a second; a write transaction
        (and fsync) for each would compete with ingestion for the single writer. Saving
        less often only means a crash re-delivers a little more, which the idempotent
        handlers absorb; :meth:`drain` and :meth:`stop` always save.
        """
        now = asyncio.get_running_loop().time()
        if now - self._saved_at < self.options.checkpoint_interval:
            return
        self._saved_at = now
        await self._save_checkpoint()

    async def _save_checkpoint(self) -> None:
        if self.feed is not None:
            await self.feed.save()
            return
        position = self.safe_position()
        if position <= self._saved:
            return
        async with self.store.transaction() as conn:
            await self.store.save_checkpoint(self.checkpoint_name, position, conn)
        self._saved = position
