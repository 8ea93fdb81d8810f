"""The outbox sender: ``ReplyQueued`` in, one Graph API call, ``OutboundSent``/``Failed`` out.

Protocol per outbound message (idempotent, crash-safe):

1. If the stream already holds an outcome for the id, do nothing.
2. If it holds an attempt but no outcome, the process died mid-send: the message may
   have reached the customer. Reconcile from a status webhook carrying our id, or record
   ``OutboundFailed(outcome_unknown=True)`` for review. Never resend blindly.
3. Outside the 24-hour window only templates go out; other kinds fail without a call.
4. Otherwise record ``OutboundAttempted``, call Meta, record the outcome. Transient errors
   (5xx, rate limits) are retried with exponential backoff and jitter up to
   ``max_attempts``; a timeout or reset is an unknown outcome and is not retried.

What it knows of a stream (outcomes, attempts, carriers of merged sends, delivery proofs,
the customer's last message) is an :class:`~adapters.engine.outbox_index.OutboxIndex`
kept in a :class:`~adapters.engine.stream_cache.StreamCache`: only the events after the
version it already folded are read.

Throughput and pacing: every call takes a token from the number's bucket (80 messages/s
by default) and from the recipient's (Meta's pair rate: one message per 6 s, a burst of
3; :class:`~core.pacing.Pacer`), waiting when either is empty; replies queued meanwhile
wait in the lane and go out merged. A 131056 answer empties the recipient's bucket and
the same message is tried again after the wait, without counting as a failure (at most
``max_pair_waits`` times). Consecutive fresh text replies of one dispatch turn are
merged into one message (:func:`~core.outbound.merge_texts`) instead of a burst. A
merged send carries the first reply's id; the others' attempts name it as their cause.

A permanent failure (our ``OutboundFailed`` or a ``failed`` status webhook with a
permanent code) escalates the conversation to support (``ConversationEscalated`` with
reason ``send_failed``, and a push alert to support); a failure that is the business's
fault (expired token 190, locked account) records ``OperatorAlerted`` instead of that
push (a review-queue item and a metric), logs ``operator.alert`` and pushes an operator
alert at most once per error code per ``alert_push_interval``. A late status webhook
for an ``outcome_unknown`` send reconciles it. With ``mark_read``, a fresh inbound
message gets blue ticks and the typing indicator while the reply is prepared (best
effort, never awaited).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from adapters.engine.outbox_index import OutboxIndex
from adapters.engine.outbox_index import index as index_event
from adapters.engine.outbox_index import start as start_index
from adapters.engine.send_retries import RetryTimer
from adapters.engine.stream_cache import DEFAULT_CAPACITY, Folding, StreamCache
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core import alerts
from core.conversation import recipient
from core.outbound import (
    TEXT_MAX,
    Button,
    ButtonsMessage,
    ListMessage,
    MarkRead,
    OutboundContent,
    OutboundMessage,
    ReactionMessage,
    Row,
    Section,
    TemplateMessage,
    TextMessage,
    merge_texts,
)
from core.pacing import PAIR_BURST, PAIR_INTERVAL, PAIR_RATE_CODE, Pacer
from core.ports import Messenger
from core.send_errors import SendError, TransientSendError, backoff_delay, classify_send_error
from core.send_retry import RetrySchedule
from core.window import outbound_allowed
from events.base import ERASED, Metadata, NewEvent, RecordedEvent
from events.conversation import (
    ConversationEscalated,
    OutboundFailed,
    OutboundSent,
    ReplyKind,
    ReplyQueued,
)
from events.outbox import OperatorAlerted, OutboundAttempted, OutboundReconciled
from events.send_retries import OutboundRetryDue, OutboundRetryScheduled
from events.whatsapp import MessageReceived, StatusReceived

log = structlog.get_logger(__name__)
OUTBOX_NAMESPACE = uuid.UUID("0b7e4a52-2a0c-4d8e-9f3b-8d1c6e5a4f20")
WINDOW_CODE = 131047  # Meta's code for "outside the 24-hour window"
TYPING_FRESH = timedelta(seconds=25)  # Meta shows the typing indicator for at most 25 s
ALERT_PUSH_INTERVAL = 600.0  # one operator push per error code per process in 10 minutes
MAX_PAIR_WAITS = 10  # 131056 answers waited out per message before it counts as failing
Step = tuple[RecordedEvent, str, Any]  # (queued reply, step name, payload) for _record


def is_reply_queued(event: RecordedEvent) -> bool:
    """The narrow selector: queued replies only."""
    return event.type == ReplyQueued.TYPE


def is_outbox_input(event: RecordedEvent) -> bool:
    """The dispatcher's selector: queued replies, status webhooks, inbound messages."""
    return event.type in _INPUTS and event.stream.startswith("conversation-")


_INPUTS = frozenset(
    {ReplyQueued.TYPE, StatusReceived.TYPE, MessageReceived.TYPE, OutboundRetryDue.TYPE}
)


def content_for(reply: ReplyQueued) -> OutboundContent:
    """The Graph API message for a queued reply (a list without rows degrades to text)."""
    if reply.kind is ReplyKind.LIST and reply.rows:
        return _list(reply)
    if reply.kind is ReplyKind.BUTTONS and reply.buttons:
        buttons = tuple(Button(id=b.id, title=b.title) for b in reply.buttons)
        return ButtonsMessage(body=reply.text, buttons=buttons)
    if reply.kind is ReplyKind.TEMPLATE:
        return TemplateMessage(
            name=reply.text, language="it", body_parameters=reply.template_params
        )
    if reply.kind is ReplyKind.REACTION and reply.in_reply_to:
        return ReactionMessage(message_id=reply.in_reply_to, emoji=reply.text)
    return TextMessage(body=reply.text)


def _list(reply: ReplyQueued) -> ListMessage:
    """Rows grouped into sections in order (consecutive rows of one section title)."""
    sections: list[tuple[str, list[Row]]] = []
    for r in reply.rows:
        if not sections or sections[-1][0] != r.section:
            sections.append((r.section, []))
        sections[-1][1].append(Row(id=r.id, title=r.title, description=r.description))
    return ListMessage(
        body=reply.text,
        button_text=reply.list_button or "Scegli",
        sections=tuple(Section(title=t, rows=tuple(rs)) for t, rs in sections),
    )


class OutboxSender:
    """Carries out queued replies through a :class:`Messenger` (see the module docstring)."""

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
        self.index = StreamCache(store, Folding(start_index, index_event), capacity=cache_streams)
        self.max_attempts, self.backoff_base = max_attempts, backoff_base
        self.mark_read = mark_read
        self._clock, self._jitter, self._monotonic = clock, jitter, monotonic
        self._pacer = Pacer.of(messages_per_second, pair_interval, pair_burst)
        self.max_pair_waits = max_pair_waits
        self.retry_schedule = retry_schedule or RetrySchedule()
        self.retries = RetryTimer(store, clock=clock)
        self._background: set[asyncio.Task[None]] = set()
        self.alerts = 0  # operator alerts raised (tests, metrics)
        self.alert_push_interval = alert_push_interval
        self._pushed_at: dict[int | None, float] = {}  # error code -> last operator push

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Act on ``events`` of one conversation stream, in order, skipping what is done."""
        history, _version = await self.index.load(stream)
        if self.mark_read:
            self._mark_read(history, events)
        replies = [e for e in events if isinstance(e.payload, ReplyQueued)]
        due = any(isinstance(e.payload, OutboundRetryDue) for e in events)
        if due:  # everything still unsent to this person, in queue order
            replies = history.unsent()
        elif history.retrying():  # in order per person: newer replies wait behind a retry
            replies = []
        attempted = history.attempted_only()
        quick = 1 if due else self.max_attempts
        for group in _groups(replies, history.done, attempted):
            if _oid(group[0]) in attempted:
                await self._unknown_outcome(stream, group[0], history)
            elif await self._send_group(stream, group, history, quick):
                break  # a retry is scheduled: the later replies wait behind it, in order
        for status in (e for e in events if isinstance(e.payload, StatusReceived)):
            await self._on_status(stream, status, history)

    # -- sending ------------------------------------------------------------------------

    async def _send_group(
        self, stream: str, group: list[RecordedEvent], history: OutboxIndex, quick: int
    ) -> bool:
        """Send ``group`` or record its failure; True when a retry of it was scheduled."""
        lead: ReplyQueued = group[0].payload
        if not outbound_allowed(lead.kind, history.last_inbound_at, self._clock()):
            failed = OutboundFailed(
                outbound_id=lead.outbound_id,
                code=WINDOW_CODE,
                title="outside the 24-hour window: not sent",
                retryable=False,
            )
            await self._fail(stream, group, failed)
            return False
        return await self._send(stream, group, history, quick)

    async def _send(
        self, stream: str, group: list[RecordedEvent], history: OutboxIndex, quick: int
    ) -> bool:
        """Up to ``quick`` attempts now; then a durable retry (True), or the failure recorded."""
        lead: ReplyQueued = group[0].payload
        to = await self.store.people.subject_of(lead.to)  # a person id becomes their number
        if to is None or to == ERASED:
            gone = OutboundFailed(
                outbound_id=lead.outbound_id,
                code=None,
                title="the recipient was erased: not sent",
                retryable=False,
            )
            await self._record(
                stream, [(q, "failed", replace(gone, outbound_id=_oid(q))) for q in group]
            )
            return False
        message = OutboundMessage(
            outbound_id=lead.outbound_id, to=recipient(to), content=_content(group), reply_to=None
        )
        failures = paced = 0  # failed attempts (towards max_attempts), pair-rate waits
        tried = max(history.last_attempt.get(_oid(q), 0) for q in group)  # earlier rounds
        for attempt in itertools.count(tried + 1):
            tries: list[Step] = [
                (q, f"attempt:{attempt}", OutboundAttempted(outbound_id=_oid(q), attempt=attempt))
                for q in group
            ]
            await self._take_token(message.to)
            await self._record(stream, tries, carrier=group[0])
            try:
                result = await self.messenger.send(message)
            except SendError as exc:
                if _paced(exc) and paced < self.max_pair_waits:
                    # Meta's pair rate limit: wait a whole interval, do not count a failure.
                    paced += 1
                    self._pacer = self._pacer.penalize(message.to, self._monotonic())
                    continue
                failures += 1
                if self._retry(exc, failures, quick):
                    await asyncio.sleep(self._delay(exc, failures))
                    continue
                if await self._schedule(stream, group, history, exc):
                    return True
                await self._fail(stream, group, _failure(lead.outbound_id, exc), exc)
                return False
            wamid = result.wamid or ""
            sent: list[Step] = [
                (q, "sent", OutboundSent(outbound_id=_oid(q), wamid=wamid)) for q in group
            ]
            await self._record(stream, sent)
            return False
        return False  # not reached: the loop returns

    def _retry(self, exc: SendError, attempt: int, quick: int) -> bool:
        return _transient(exc) and attempt < quick

    async def _schedule(
        self, stream: str, group: list[RecordedEvent], history: OutboxIndex, exc: SendError
    ) -> bool:
        """Record the next durable retry of ``group``; False past the horizon or window."""
        if not _transient(exc):
            return False
        lead, now = group[0], self._clock()
        retry = history.scheduled.get(_oid(lead), 0) + 1
        since = history.first_failed.get(_oid(lead), now)
        due = self.retry_schedule.next_due(
            retry,
            failed_at=now,
            first_failed_at=since,
            kind=lead.payload.kind,
            last_inbound_at=history.last_inbound_at,
            jitter=self._jitter(),
        )
        if due is None:
            return False
        title = (exc.title or exc.message)[:200]
        steps: list[Step] = [
            (q, f"retry:{retry}", OutboundRetryScheduled(
                outbound_id=_oid(q), retry=retry, due_at=due, first_failed_at=since,
                code=exc.code, title=title,
            ))
            for q in group
        ]  # fmt: skip
        await self._record(stream, steps)
        self.retries.add(stream, _oid(lead), retry, due)
        log.info("outbox.retry_scheduled", outbound_id=_oid(lead), retry=retry, code=exc.code)
        return True

    def _delay(self, exc: SendError, attempt: int) -> float:
        return backoff_delay(
            attempt, base=self.backoff_base, jitter=self._jitter(), retry_after=exc.retry_after
        )

    async def _take_token(self, to: str) -> None:
        """Wait for the number's throughput budget and ``to``'s pair rate (token buckets)."""
        while True:
            self._pacer, wait = self._pacer.take(to, self._monotonic())
            if wait <= 0.0:
                return
            await asyncio.sleep(wait)

    async def _fail(
        self,
        stream: str,
        group: list[RecordedEvent],
        failed: OutboundFailed,
        exc: SendError | None = None,
    ) -> None:
        """Record the failure for every reply of the group; escalate if it is permanent."""
        steps: list[Step] = [(q, "failed", replace(failed, outbound_id=_oid(q))) for q in group]
        if not failed.retryable and not failed.outcome_unknown:
            operator = exc is not None and exc.alert_operator
            title = _error_title(exc) if exc is not None else (failed.title or "")
            steps += self._problem(stream, group[0], failed.code, title, operator=operator)
        await self._record(stream, steps)

    def _problem(
        self,
        stream: str,
        queued: RecordedEvent,
        code: int | None,
        title: str,
        *,
        operator: bool,
        source: str = "send",
    ) -> list[Step]:
        """Escalate to support with a push; a fault of ours is also an operator alert.

        The operator alert (event, review item, metric) is recorded for every failed
        message; its push goes out at most once per error code per ``alert_push_interval``
        in this process, so an expired token does not page support for every message.
        """
        oid = _oid(queued)
        steps: list[Step] = [(queued, "escalated", ConversationEscalated(reason="send_failed"))]
        if not operator:
            push = alerts.escalation(_push_id(oid, "escalation"), stream_key(stream), "send_failed")
            return [*steps, (queued, "escalation-push", push)]
        alerted = OperatorAlerted(outbound_id=oid, code=code, title=title[:300], source=source)
        steps.append((queued, "operator-alerted", alerted))
        self._alert(stream, oid, code, title)
        now = self._monotonic()
        last = self._pushed_at.get(code)
        if last is None or now - last >= self.alert_push_interval:
            self._pushed_at[code] = now
            push = alerts.operator_alert(_push_id(oid, "operator"), code, title)
            steps.append((queued, "operator-push", push))
        return steps

    def _alert(self, stream: str, outbound_id: str, code: int | None, error: str) -> None:
        self.alerts += 1
        log.error(
            "operator.alert",
            reason="send_failed",
            code=code,
            outbound_id=outbound_id,
            conversation=stream.removeprefix("conversation-")[:6] + "…",
            error=error[:200],
        )

    # -- crash recovery and status webhooks ---------------------------------------------

    async def _unknown_outcome(
        self, stream: str, queued: RecordedEvent, history: OutboxIndex
    ) -> None:
        oid = _oid(queued)
        proof = history.proof_for({oid, history.carriers.get(oid, oid)})
        if proof is not None:
            done = OutboundReconciled(outbound_id=oid, wamid=proof.wamid, status=proof.status)
            await self._record(stream, [(queued, "reconciled", done)])
            return
        log.warning("outbox.outcome_unknown", outbound_id=oid)
        failed = OutboundFailed(
            outbound_id=oid,
            code=None,
            retryable=False,
            outcome_unknown=True,
            title="interrupted mid-send: outcome unknown, not resent",
        )
        await self._record(stream, [(queued, "failed", failed)])

    async def _on_status(
        self, stream: str, status_event: RecordedEvent, history: OutboxIndex
    ) -> None:
        status: StatusReceived = status_event.payload
        queued = history.queued_for(status)
        if queued is None:
            return
        if status.status == "failed":
            await self._on_failed_status(stream, queued, status)
            return
        # A late proof of delivery for sends left as "outcome unknown" (merged ones too).
        for oid in sorted(_late_candidates(history), key=_queued_order(history)):
            q = history.queued[oid]
            if history.carriers.get(oid) == _oid(queued):
                done = OutboundReconciled(outbound_id=oid, wamid=status.wamid, status=status.status)
                await self._record(stream, [(q, "reconciled", done)])

    async def _on_failed_status(
        self, stream: str, queued: RecordedEvent, status: StatusReceived
    ) -> None:
        codes = [e.code for e in status.errors]
        verdicts = [classify_send_error(None, code) for code in codes]
        if not verdicts or any(v.transient for v in verdicts):
            return
        operator = any(v.alert_operator for v in verdicts)
        title = status.errors[0].title or "failed status"
        steps = self._problem(stream, queued, codes[0], title, operator=operator, source="status")
        await self._record(stream, steps)

    # -- mark as read -------------------------------------------------------------------

    def _mark_read(self, history: OutboxIndex, events: Sequence[RecordedEvent]) -> None:
        """Blue ticks and typing for the latest fresh message of each sender in ``events``.

        Marking a message read marks the earlier ones of the chat too (Meta), so a burst
        handled together costs one call per sender, not one per message.
        """
        answered = history.answered
        now = self._clock()
        latest: dict[str, str] = {}  # sender -> wamid of their latest fresh message
        for e in events:
            m = e.payload
            if not isinstance(m, MessageReceived) or str(e.event_id) in answered:
                continue
            to = m.phone or m.bsuid
            if to and now - m.sent_at < TYPING_FRESH:
                latest[to] = m.wamid
        for to, wamid in latest.items():
            task = asyncio.create_task(self._send_read(to, wamid))
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
        self, stream: str, steps: list[Step], *, carrier: RecordedEvent | None = None
    ) -> None:
        """Append ``steps`` in one go (deterministic ids: a re-run appends nothing new)."""
        new = [
            NewEvent(
                event_id=uuid.uuid5(OUTBOX_NAMESPACE, f"{_oid(queued)}:{step}"),
                payload=payload,
                metadata=Metadata(
                    causation_id=str((carrier or queued).event_id),
                    source="reactor:outbox",
                    correlation_id=queued.metadata.correlation_id,
                ),
            )
            for queued, step, payload in steps
        ]
        await self.store.append(stream, Expect.ANY, new)


def _transient(exc: SendError) -> bool:
    """Meta did not take the message, for a reason that may pass: worth another try."""
    return isinstance(exc, TransientSendError) and not exc.outcome_unknown


def _paced(exc: SendError) -> bool:
    """Meta refused for the pair rate (131056): wait, the message is fine."""
    return exc.code == PAIR_RATE_CODE and not exc.outcome_unknown


def _error_title(exc: SendError) -> str:
    """Meta's title with its message (190's title is only ``OAuthException``)."""
    if exc.title and exc.title not in exc.message:
        return f"{exc.title}: {exc.message}"
    return exc.message


def _push_id(outbound_id: str, kind: str) -> str:
    """A deterministic notification id: a re-run requests the same push, not a second one."""
    return str(uuid.uuid5(OUTBOX_NAMESPACE, f"{outbound_id}:push:{kind}"))


def stream_key(stream: str) -> str:
    """``conversation-<key>`` -> ``<key>``."""
    return stream.removeprefix("conversation-")


def _oid(queued: RecordedEvent) -> str:
    oid: str = queued.payload.outbound_id
    return oid


def _groups(
    replies: list[RecordedEvent], done: set[str], attempted: set[str]
) -> Iterator[list[RecordedEvent]]:
    """Fresh consecutive texts to one recipient merge (up to 4096 chars); the rest go alone."""
    group: list[RecordedEvent] = []
    size = 0
    for q in replies:
        r: ReplyQueued = q.payload
        if r.outbound_id in done:
            continue
        mergeable = r.kind is ReplyKind.TEXT and r.outbound_id not in attempted
        fits = size + 2 + len(r.text) <= TEXT_MAX
        if group and mergeable and r.to == group[0].payload.to and fits:
            group.append(q)
            size += 2 + len(r.text)
            continue
        if group:
            yield group
            group = []
        if mergeable:
            group, size = [q], len(r.text)
        else:
            yield [q]
    if group:
        yield group


def _content(group: list[RecordedEvent]) -> OutboundContent:
    if len(group) == 1:
        return content_for(group[0].payload)
    return merge_texts([TextMessage(body=q.payload.text) for q in group])


def _failure(outbound_id: str, exc: SendError) -> OutboundFailed:
    return OutboundFailed(
        outbound_id=outbound_id,
        code=exc.code,
        title=exc.title or exc.message[:200],
        retryable=isinstance(exc, TransientSendError),
        outcome_unknown=exc.outcome_unknown,
    )


def _late_candidates(history: OutboxIndex) -> set[str]:
    """Queued replies left as "outcome unknown" and not reconciled yet."""
    return (history.unknown - history.reconciled) & history.queued.keys()


def _queued_order(history: OutboxIndex) -> Callable[[str], int]:
    """Sort key: replies in the order they were queued (the log's)."""
    return lambda oid: history.queued[oid].version
