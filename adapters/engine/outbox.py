"""The outbox sender: the shell around the outbox decider (:mod:`core.outbox`).

For a batch of a conversation stream's events (queued replies, status webhooks, inbound
messages, due retries) it loads what the outbox knows of the stream
(:class:`~core.outbox.state.OutboxState`, kept in a
:class:`~adapters.engine.stream_cache.StreamCache`: only the events after the version it
already folded are read), asks :func:`~core.outbox.decide.decide` for a typed plan, and
carries it out: it appends what each decision lists, calls Meta through the
:class:`~core.ports.Messenger` port for each :class:`~core.outbox.decisions.Send`
(recording the attempt first, so a crash mid-send is never resent blindly, and calling
only when that record is new: a second handling of the same reply, from stale state or a
reply delivered twice, finds its attempt already stored and sends nothing), and asks
:func:`~core.outbox.decide.after_error` what a failed attempt means. Every rule (merging,
retries by Meta's code, the 24-hour window, reconciliation, escalation) is the
decider's; what stays here is I/O: the clock and jitter, waiting, the person store (a
person id becomes their number), the retry timer, logs and the number's pacing.

Pacing: every call takes a token from the number's bucket (80 messages/s by default)
and from the recipient's (Meta's pair rate; :class:`~core.pacing.Pacer`), waiting when
either is empty; replies queued meanwhile wait in the lane and go out merged. A 131056
verdict empties the recipient's bucket before the same message is tried again.
Operator pushes go out at most once per error code per ``alert_push_interval`` in this
process (:class:`~core.outbox.decide.AlertPushes`). With ``mark_read``, a fresh inbound
message gets blue ticks and the typing indicator while the reply is prepared (best
effort, never awaited).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import assert_never

import structlog

from adapters.engine.send_retries import RetryTimer
from adapters.engine.stream_cache import DEFAULT_CAPACITY, Folding, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import AppendResult, Expect
from core.conversation import recipient
from core.outbound import MarkRead, OutboundMessage
from core.outbox.decide import (
    ALERT_PUSH_INTERVAL,
    AlertPushes,
    after_error,
    attempts,
    decide,
    recipient_gone,
    sent,
)
from core.outbox.decisions import (
    MAX_PAIR_WAITS,
    Escalate,
    Escalation,
    Fail,
    GiveUpUnknown,
    MarkAsRead,
    Reconcile,
    Record,
    RetryNow,
    ScheduleRetry,
    Send,
    SendPolicy,
    Tries,
    WaitForPacing,
    record_id,
)
from core.outbox.state import OutboxState, evolve, initial
from core.pacing import PAIR_BURST, PAIR_INTERVAL, Pacer
from core.ports import Messenger
from core.send_errors import SendError
from core.send_retry import RetrySchedule
from events.base import ERASED, Metadata, NewEvent, RecordedEvent
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
        self.retries = RetryTimer(store, clock=clock)
        self._background: set[asyncio.Task[None]] = set()
        self.alerts = 0  # operator alerts raised (tests, metrics)

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Act on ``events`` of one conversation stream, in order, skipping what is done."""
        state, _version = await self.index.load(stream)
        plan = decide(state, events, self._clock(), self.policy)
        for read in plan.reads:
            self._mark_read(read)
        for decision in plan.replies:
            match decision:
                case Send():
                    if await self._send(stream, state, decision):
                        break  # a retry is scheduled: later replies wait behind it, in order
                case Fail():
                    await self._fail(stream, decision)
                case Reconcile():
                    await self._record(stream, decision.records)
                case GiveUpUnknown():
                    log.warning("outbox.outcome_unknown", outbound_id=decision.outbound_id)
                    await self._record(stream, decision.records)
                case _:
                    assert_never(decision)
        for outcome in plan.statuses:
            match outcome:
                case Reconcile():
                    await self._record(stream, outcome.records)
                case Escalate():
                    await self._record(stream, self._escalation(outcome.escalation))
                case _:
                    assert_never(outcome)

    # -- sending ------------------------------------------------------------------------

    async def _send(self, stream: str, state: OutboxState, send: Send) -> bool:
        """Attempts of ``send`` until an outcome is recorded; True when a retry was scheduled."""
        to = await self.store.people.subject_of(send.to)  # a person id becomes their number
        if to is None or to == ERASED:
            await self._fail(stream, recipient_gone(send))
            return False
        message = OutboundMessage(
            outbound_id=send.outbound_id, to=recipient(to), content=send.content, reply_to=None
        )
        tries = Tries()
        for attempt in itertools.count(send.first_attempt):
            await self._take_token(message.to)
            recorded = await self._record(stream, attempts(send, attempt), carrier=send.group[0])
            if recorded.duplicates:
                # This attempt is in the log already: another handling of the same reply
                # (stale state, or the reply delivered twice) made it and owns the call.
                log.error("outbox.attempt_already_recorded", outbound_id=send.outbound_id,
                          attempt=attempt)  # fmt: skip
                return False
            try:
                result = await self.messenger.send(message)
            except SendError as exc:
                verdict = after_error(
                    state, send, exc, tries, now=self._clock(), jitter=self._jitter(),
                    policy=self.policy,
                )  # fmt: skip
                match verdict:
                    case WaitForPacing():
                        self._pacer = self._pacer.penalize(message.to, self._monotonic())
                        tries = verdict.tries
                    case RetryNow():
                        await asyncio.sleep(verdict.delay)
                        tries = verdict.tries
                    case ScheduleRetry():
                        await self._schedule(stream, verdict)
                        return True
                    case Fail():
                        await self._fail(stream, verdict)
                        return False
                    case _:
                        assert_never(verdict)
                continue
            await self._record(stream, sent(send, result.wamid or ""))
            return False
        return False  # not reached: the loop returns

    async def _schedule(self, stream: str, retry: ScheduleRetry) -> None:
        """Record the durable retry and tell the timer (which also finds it after a restart)."""
        await self._record(stream, retry.records)
        self.retries.add(stream, retry.outbound_id, retry.retry, retry.due_at)
        log.info(
            "outbox.retry_scheduled", outbound_id=retry.outbound_id, retry=retry.retry,
            code=retry.code,
        )  # fmt: skip

    async def _take_token(self, to: str) -> None:
        """Wait for the number's throughput budget and ``to``'s pair rate (token buckets)."""
        while True:
            self._pacer, wait = self._pacer.take(to, self._monotonic())
            if wait <= 0.0:
                return
            await asyncio.sleep(wait)

    async def _fail(self, stream: str, fail: Fail) -> None:
        """Record the failure, with its escalation when there is one."""
        records = fail.records
        if fail.escalation is not None:
            records = (*records, *self._escalation(fail.escalation))
        await self._record(stream, records)

    def _escalation(self, escalation: Escalation) -> tuple[Record, ...]:
        """The escalation's records; an operator alert is logged and its push throttled."""
        records = escalation.records
        alert = escalation.alert
        if alert is None:
            return records
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
        if admitted and escalation.operator_push is not None:
            records = (*records, escalation.operator_push)
        return records

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

    async def _record(
        self, stream: str, records: Sequence[Record], *, carrier: RecordedEvent | None = None
    ) -> AppendResult:
        """Append ``records`` in one go (deterministic ids: a re-run appends nothing new;
        the result names the ids that were already stored)."""
        new = [
            NewEvent(
                event_id=record_id(r.queued.payload.outbound_id, r.step),
                payload=r.payload,
                metadata=Metadata(
                    causation_id=str((carrier or r.queued).event_id),
                    source="reactor:outbox",
                    correlation_id=r.queued.metadata.correlation_id,
                ),
            )
            for r in records
        ]
        return await self.store.append(stream, Expect.ANY, new)
