"""The outbox sender: the shell around the outbox decider (:mod:`core.outbox`).

For a batch of a conversation stream's events (queued replies, status webhooks, inbound
messages, due retries) it runs :data:`~core.outbox.drive.OUTBOX` on the one runner
(:func:`~adapters.engine.runner.run`, ADR 0032): ``load`` is the stream's
:class:`~core.outbox.state.OutboxState` kept in a
:class:`~adapters.engine.stream_cache.StreamCache` (only the events after the version it
already folded are read); the decider walks the batch's plan and asks for one piece of
work at a time (:mod:`core.outbox.requests`), which this module performs: read receipts,
the number behind a person id, a pacing token, the call to Meta through the
:class:`~core.ports.Messenger` port, the retry timer, an operator alert. A call is asked
through :class:`~core.decider.RecordFirst`: the runner stores its attempt first (with what
was decided before it), so a crash mid-send is never resent blindly, and calls only when
that record is new: a second handling of the same reply, from stale state or a reply
delivered twice, finds its attempt already stored and sends nothing. Every rule
(merging, retries by Meta's code, the 24-hour window, reconciliation, escalation) is the
decider's; what stays here is I/O: the clock and jitter (recorded in a refused call's
outcome), waiting, the person store, the retry timer, logs and the number's pacing.
Records are appended at any version (``Expect.ANY``): their ids derive from the reply
and the step, so a repeat writes nothing, and a conversation turn appending meanwhile
never conflicts with them.

Pacing: every call takes a token from the number's bucket (80 messages/s by default)
and from the recipient's (Meta's pair rate; :class:`~core.pacing.Pacer`), waiting when
either is empty; replies queued meanwhile wait in the lane and go out merged. A 131056
verdict empties the recipient's bucket before the same message is tried again; a quick
retry after a 5xx or a refused connection first gives back the token of the attempt that
delivered nothing. Every call Meta accepts tells the retry timer, which pulls forward the
retries scheduled while Meta was down (:meth:`RetryTimer.meta_answered`, ADR 0036).
Operator pushes go out at most once per error code per ``alert_push_interval`` in this
process (:class:`~core.outbox.decide.AlertPushes`). With ``mark_read``, a fresh inbound
message gets blue ticks and the typing indicator while the reply is prepared (best
effort, never awaited).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import assert_never

import structlog

from adapters.engine.runner import Process, Written, run
from adapters.engine.send_retries import RetryTimer
from adapters.engine.stream_cache import DEFAULT_CAPACITY, Folding, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import AppendResult, Expect
from core.outbound import MarkRead, OutboundMessage
from core.outbox.decide import ALERT_PUSH_INTERVAL, AlertPushes
from core.outbox.decisions import (
    MAX_PAIR_WAITS,
    MarkAsRead,
    OperatorAlert,
    Record,
    SendPolicy,
    record_id,
)
from core.outbox.drive import OUTBOX, Batch
from core.outbox.requests import (
    Alert,
    AlertAdmitted,
    Answered,
    Call,
    LogNote,
    MarkReads,
    OutboxEvent,
    OutboxRequest,
    Pace,
    Paced,
    ReadsMarked,
    Refused,
    Remind,
    Reminded,
    Resolve,
    Resolved,
)
from core.outbox.state import OutboxState, evolve, initial
from core.pacing import PAIR_BURST, PAIR_INTERVAL, Pacer
from core.ports import Messenger
from core.send_errors import SendError
from core.send_retry import RetrySchedule
from events.base import Metadata, NewEvent, RecordedEvent
from events.conversation import ReplyQueued
from events.send_retries import OutboundRetryDue
from events.whatsapp import MessageReceived, StatusReceived

log = structlog.get_logger(__name__)
_INPUTS = frozenset(
    {ReplyQueued.TYPE, StatusReceived.TYPE, MessageReceived.TYPE, OutboundRetryDue.TYPE}
)


def is_reply_queued(event: RecordedEvent) -> bool:
    """The narrow selector: queued replies only."""
    return event.type == ReplyQueued.TYPE


def is_outbox_input(event: RecordedEvent) -> bool:
    """The dispatcher's selector: queued replies, status webhooks, inbound messages."""
    return event.type in _INPUTS and event.stream.startswith("conversation-")


class OutboxSender:
    """Carries out the outbox decider's plans through a :class:`Messenger` (module docstring)."""

    def __init__(
        self,
        store: EventStore,
        messenger: Messenger,
        *,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        messages_per_second: float = 80.0,
        mark_read: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        alert_push_interval: float = ALERT_PUSH_INTERVAL,
        cache_streams: int = DEFAULT_CAPACITY,
        pair_interval: float = PAIR_INTERVAL,
        pair_burst: int = PAIR_BURST,
        max_pair_waits: int = MAX_PAIR_WAITS,
        retry_schedule: RetrySchedule | None = None,
    ) -> None:
        self.store, self.messenger = store, messenger
        self.index = StreamCache(store, Folding(initial, evolve), capacity=cache_streams)
        self.policy = SendPolicy(
            quick_attempts=max_attempts,
            backoff_base=backoff_base,
            max_pair_waits=max_pair_waits,
            retry=retry_schedule or RetrySchedule(),
            mark_read=mark_read,
        )
        self._clock, self._jitter, self._monotonic = clock, jitter, monotonic
        self._pacer = Pacer.of(messages_per_second, pair_interval, pair_burst)
        self._pushes = AlertPushes(interval=alert_push_interval)
        self.retries = RetryTimer(store, clock=clock, drain_rate=messages_per_second)
        self._background: set[asyncio.Task[None]] = set()
        self.alerts = 0  # operator alerts raised (tests, metrics)
        self._unperformed: set[str] = set()  # attempts whose write failed, Meta not called
        self.process: Process[OutboxState, Batch, OutboxEvent, OutboxRequest] = Process(
            name="outbox",
            decider=OUTBOX,
            load=self.index.load,
            append=self._append,
            perform=self._perform,
            record=self._record,
            clock=clock,
            max_rounds=self._rounds,
        )

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Act on ``events`` of one conversation stream, in order, skipping what is done."""
        batch = Batch(tuple(events), self.policy, frozenset(self._unperformed))
        await run(self.process, stream, batch)

    def _rounds(self, state: OutboxState, batch: Batch) -> int:
        """Enough rounds for every reply that may go out in ``batch`` to use all its tries."""
        per_send = self.policy.quick_attempts + self.policy.max_pair_waits + 4  # + resolve...
        open_replies = len(state.queued) - len(state.done) + len(batch.events)
        return per_send * (open_replies + 1) + 2

    # -- the decider's requests ------------------------------------------------------

    async def _perform(self, stream: str, request: OutboxRequest) -> Sequence[OutboxEvent]:
        match request:
            case MarkReads():
                for read in request.reads:
                    self._mark_read(read)
                return [ReadsMarked()]
            case Resolve():
                return [Resolved(await self.store.people.subject_of(request.person))]
            case Pace():
                await self._pace(request)
                return [Paced()]
            case Call():
                return [await self._call(request)]
            case Remind():
                self.retries.add(
                    stream, request.outbound_id, request.retry, request.due_at, request.outage
                )
                log.info(
                    "outbox.retry_scheduled", outbound_id=request.outbound_id,
                    retry=request.retry, code=request.code,
                )  # fmt: skip
                return [Reminded()]
            case Alert():
                return [AlertAdmitted(self._alert(request.alert))]
            case _:
                assert_never(request)

    async def _call(self, call: Call) -> Answered | Refused:
        try:
            result = await self.messenger.send(call.message)
        except SendError as exc:
            return Refused(exc, at=self._clock(), jitter=self._jitter())
        self.retries.meta_answered()  # Meta is back: the outage's retries are due soon
        return Answered(result.wamid or "")

    async def _pace(self, pace: Pace) -> None:
        """Back off, then wait for the number's throughput budget and ``to``'s pair rate."""
        if pace.penalize:
            self._pacer = self._pacer.penalize(pace.to, self._monotonic())
        if pace.refund:
            self._pacer = self._pacer.refund(pace.to, self._monotonic())
        if pace.pause > 0:
            await asyncio.sleep(pace.pause)
        while True:
            self._pacer, wait = self._pacer.take(pace.to, self._monotonic())
            if wait <= 0.0:
                return
            await asyncio.sleep(wait)

    def _alert(self, alert: OperatorAlert) -> bool:
        """Log and count an operator alert; True when its push may go out now."""
        self.alerts += 1
        log.error(
            "operator.alert",
            reason="send_failed",
            code=alert.code,
            outbound_id=alert.outbound_id,
            conversation=alert.stream.removeprefix("conversation-")[:6] + "…",
            error=alert.title[:200],
        )
        self._pushes, admitted = self._pushes.admit(alert.code, self._monotonic())
        return admitted

    # -- mark as read -------------------------------------------------------------------

    def _mark_read(self, read: MarkAsRead) -> None:
        task = asyncio.create_task(self._send_read(read.to, read.wamid))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_read(self, to: str, wamid: str) -> None:
        try:
            read = MarkRead(message_id=wamid, typing=True)
            message = OutboundMessage(outbound_id=f"read:{wamid}", to=to, content=read)
            await self.messenger.send(message)
        except Exception as exc:  # best effort: a lost read receipt harms nobody
            log.info("outbox.mark_read_failed", error=f"{type(exc).__name__}: {exc}"[:200])

    # -- recording ----------------------------------------------------------------------

    async def _append(self, stream: str, _version: int, events: tuple[OutboxEvent, ...]) -> None:
        await self._write(stream, events)

    async def _record(
        self,
        stream: str,
        version: int,
        ahead: tuple[OutboxEvent, ...],
        intent: tuple[OutboxEvent, ...],
    ) -> Written:
        """The write before a call: what is decided so far, then the attempt.

        When the write fails, whether it committed is unknown, but Meta was not called:
        the replies are kept as ``unperformed`` so that the retry of this batch sends them
        rather than taking the attempt for a send interrupted midway (which goes to review).
        Kept in memory only: after a restart the cautious reading applies."""
        oids = {r.queued.payload.outbound_id for r in _records(intent)}
        try:
            result = await self._write(stream, (*ahead, *intent))
        except BaseException:
            self._unperformed |= oids
            raise
        self._unperformed -= oids
        if result is None:
            return Written(version=version, fresh=True)
        ids = {record_id(r.queued.payload.outbound_id, r.step) for r in _records(intent)}
        return Written(version=result.version, fresh=not ids.intersection(result.duplicates))

    async def _write(self, stream: str, events: Sequence[OutboxEvent]) -> AppendResult | None:
        """Append the records among ``events`` in one go, at any version: their ids derive
        from reply and step, so a re-run appends nothing new (the result names the ids that
        were already stored). Log notes are logged; outcomes are not stored."""
        for e in events:
            if isinstance(e, LogNote):
                (log.error if e.error else log.warning)(e.event, outbound_id=e.outbound_id)
        new = [
            NewEvent(
                event_id=record_id(r.queued.payload.outbound_id, r.step),
                payload=r.payload,
                metadata=Metadata(
                    causation_id=str((r.carrier or r.queued).event_id),
                    source="reactor:outbox",
                    correlation_id=r.queued.metadata.correlation_id,
                ),
            )
            for r in _records(events)
        ]
        return await self.store.append(stream, Expect.ANY, new) if new else None


def _records(events: Sequence[OutboxEvent]) -> list[Record]:
    return [e for e in events if isinstance(e, Record)]
