"""The retry timer: scheduled send retries become ``OutboundRetryDue`` facts when due.

The outbox records ``OutboundRetryScheduled`` (durable) and tells this timer; on start the
timer reads every schedule back from the log (only events of that type), so a restart
loses none. When one comes due it appends ``OutboundRetryDue`` to the conversation
stream, with an id derived from the reply and the retry number, so two processes or a
restart fire it once; the outbox's dispatcher picks that fact up like any other input
and sends, in queue order, every reply of that person still unsent. Stale entries (the
reply was sent meanwhile) are harmless: the outbox finds nothing left to send.

When the outbox's sender sees Meta accept a call (:meth:`RetryTimer.meta_answered`), the
retries it holds that were scheduled because Meta or the network was down are pulled
forward (:func:`core.send_retry.pull_forward`: due now, spread at the number's
throughput) instead of waiting out their doubled waits; rate-limited ones keep their
time. Only the firing moves: the fact is still ``OutboundRetryDue`` with the same id,
so a copy of the entry in another process, or the original time after a restart, adds
nothing (ADR 0036). Schedules read back from the log count as the outage's by their
code (:func:`core.send_errors.outage_code`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from adapters.engine.dispatch import DispatchOptions, Handle, Select, StreamDispatcher
from adapters.engine.lease import Leases
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.send_errors import outage_code
from core.send_retry import Pending, pull_forward
from events.base import Metadata, NewEvent
from events.send_retries import OutboundRetryDue, OutboundRetryScheduled

log = structlog.get_logger(__name__)
RETRY_NAMESPACE = uuid.UUID("8a3e5c1d-7b24-4f69-a0d3-5e2c9b7f1a46")


class RetryTimer:
    """Due send retries, fired as facts (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        *,
        tick: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        drain_rate: float = 80.0,
    ) -> None:
        self.store, self.tick, self._clock = store, tick, clock
        self.drain_rate = drain_rate  # pulled-forward retries fired per second (the number's)
        self._heap: list[Pending] = []
        self._outages = 0  # entries in the heap marked ``outage``
        self._wake = asyncio.Event()
        self.fired = 0

    def add(
        self, stream: str, outbound_id: str, retry: int, due_at: datetime, outage: bool = False
    ) -> None:
        """Fire ``retry`` of ``outbound_id`` in ``stream`` at ``due_at`` (or earlier, when
        ``outage`` and Meta answers again meanwhile)."""
        self._push(Pending(due_at, stream, outbound_id, retry, outage))
        self._wake.set()

    def meta_answered(self) -> None:
        """Meta accepted a send: the outage's retries become due now, spread out."""
        if not self._outages:  # the common case, in O(1)
            return
        before = len(self._heap)
        self._heap = pull_forward(self._heap, now=self._clock(), rate=self.drain_rate)
        heapq.heapify(self._heap)
        outages = sum(p.outage for p in self._heap)
        log.info("send_retry.pulled_forward", retries=self._outages - outages, held=before)
        self._outages = outages
        self._wake.set()

    def _push(self, entry: Pending) -> None:
        heapq.heappush(self._heap, entry)
        self._outages += entry.outage

    def _pop(self) -> Pending:
        entry = heapq.heappop(self._heap)
        self._outages -= entry.outage
        return entry

    async def load(self, page: int = 1000) -> int:
        """Every schedule in the log back into the timer; returns how many."""
        after, found = 0, 0
        kinds = [OutboundRetryScheduled.TYPE]
        while batch := await self.store.read_all_uncached(after, page, types=kinds):
            for e in batch:
                p = e.payload
                if isinstance(p, OutboundRetryScheduled):
                    self.add(e.stream, p.outbound_id, p.retry, p.due_at, outage_code(p.code))
                    found += 1
            after = batch[-1].position
        return found

    async def run(self) -> None:
        """Fire what is due, forever (cancel to stop)."""
        while True:
            now = self._clock()
            while self._heap and self._heap[0].due_at <= now:
                await self._fire(self._pop(), now)
            wait = self.tick
            if self._heap:
                wait = min(wait, max(0.0, (self._heap[0].due_at - now).total_seconds()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _fire(self, entry: Pending, now: datetime) -> None:
        oid, retry = entry.outbound_id, entry.retry
        event = NewEvent(
            event_id=uuid.uuid5(RETRY_NAMESPACE, f"{oid}:due:{retry}"),
            payload=OutboundRetryDue(outbound_id=oid, retry=retry, fired_at=now),
            metadata=Metadata(source="timer:send-retry"),
        )
        try:
            await self.store.append(entry.stream, Expect.ANY, [event])
        except Exception as exc:  # the store is down: try again on the next tick
            log.warning("send_retry.fire_failed", error=str(exc)[:200])
            self._push(entry)
            await asyncio.sleep(self.tick)
            return
        self.fired += 1


class OutboxDispatcher(StreamDispatcher):
    """The outbox's dispatcher; it also runs the send-retry timer while started."""

    def __init__(
        self,
        store: EventStore,
        select: Select,
        handle: Handle,
        timer: RetryTimer,
        options: DispatchOptions | None = None,
        *,
        leases: Leases | None = None,
    ) -> None:
        super().__init__(store, "outbox", select, handle, options, leases=leases)
        self.timer = timer
        self._timer_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start reading the log and the timer (after loading the schedules)."""
        super().start()
        self._timer_task = asyncio.create_task(self._timer(), name="send-retries")

    async def _timer(self) -> None:
        while True:
            try:
                await self.timer.load()
                break
            except Exception as exc:  # the store is down at start: try again
                log.warning("send_retry.load_failed", error=str(exc)[:200])
                await asyncio.sleep(self.timer.tick)
        await self.timer.run()

    async def stop(self) -> None:
        """Stop the timer, then the dispatcher."""
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None
        await super().stop()
