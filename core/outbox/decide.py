"""The sending policy as pure functions: what to do with a batch, and after a failed attempt.

Protocol per outbound message (idempotent, crash-safe):

1. A reply with a recorded outcome is left alone.
2. A reply attempted without an outcome means the process died mid-send: the message
   may have reached the customer. A status webhook naming it (or the send that carried
   it) reconciles it; else it is recorded as ``OutboundFailed(outcome_unknown=True)``
   for review. Never resent blindly.
3. Outside the 24-hour window only templates go out; anything else fails with
   Meta's own code (131047) without a call, and the conversation is escalated.
4. Otherwise :class:`~core.outbox.decisions.Send`: consecutive fresh texts to one
   person merged (:mod:`core.outbox.content`), from the attempt after the last one
   recorded. While a person has a durable retry pending, newer replies wait behind
   it; when it is due (``OutboundRetryDue``), everything still unsent to them goes, in
   queue order, with one quick attempt each.

After a failed attempt (:func:`after_error`): Meta's pair rate (131056) is waited out
without counting as a failure (at most ``max_pair_waits`` times); a transient failure
(5xx, 429/130429, refused connection, timeout before the request was written) is
retried now with backoff up to ``quick`` attempts, then on the durable schedule
(:mod:`core.send_retry`) up to the horizon and never past the window; what is left, and
every permanent failure, is recorded as ``OutboundFailed``. A permanent failure
escalates the conversation to support (with a push); a fault of the business's own
(expired token 190, locked account) is an ``OperatorAlerted`` and an operator push
instead. A ``failed`` status webhook with a permanent code escalates the same way.

Pure: the shell passes ``now``, ``jitter`` and monotonic seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from core import alerts
from core.outbox.content import Group, groups
from core.outbox.decisions import (
    DEFAULT_POLICY,
    OUTBOX_NAMESPACE,
    AfterError,
    Escalate,
    Escalation,
    Fail,
    GiveUpUnknown,
    MarkAsRead,
    OperatorAlert,
    Plan,
    Reconcile,
    Record,
    ReplyDecision,
    RetryNow,
    ScheduleRetry,
    Send,
    SendPolicy,
    StatusDecision,
    Tries,
    WaitForPacing,
)
from core.outbox.state import OutboxState
from core.pacing import PAIR_RATE_CODE
from core.send_errors import (
    SendError,
    TransientSendError,
    backoff_delay,
    classify_send_error,
    outage,
)
from core.window import outbound_allowed
from events.base import RecordedEvent
from events.conversation import ConversationEscalated, OutboundFailed, OutboundSent, ReplyQueued
from events.outbox import OperatorAlerted, OutboundAttempted, OutboundReconciled
from events.send_retries import OutboundRetryDue, OutboundRetryScheduled
from events.whatsapp import MessageReceived, StatusReceived

RECIPIENT_ERASED = "the recipient was erased: not sent"  # the failure's title; triage skips it
WINDOW_CODE = 131047  # Meta's code for "outside the 24-hour window"
TYPING_FRESH = timedelta(seconds=25)  # Meta shows the typing indicator for at most 25 s
ALERT_PUSH_INTERVAL = 600.0  # one operator push per error code per process in 10 minutes
_NO_PUSHES: Mapping[int | None, float] = MappingProxyType({})


def decide(
    state: OutboxState,
    events: Sequence[RecordedEvent],
    now: datetime,
    policy: SendPolicy = DEFAULT_POLICY,
    unperformed: frozenset[str] = frozenset(),
) -> Plan:
    """What to do about ``events`` of one conversation stream (see the module docstring).

    An event given twice counts once: a reply listed twice must not become two sends.
    ``unperformed``: replies whose attempt this process tried to record, without learning
    whether the write committed, and for which it never called Meta: an attempt of theirs
    without an outcome is not a send interrupted midway, and they are sent (next attempt).
    """
    events = list({e.event_id: e for e in events}.values())  # in first-seen order
    reads = read_receipts(state, events, now) if policy.mark_read else ()
    replies = tuple(_replies(state, events, now, policy, unperformed))
    statuses = tuple(d for e in events for d in _status(state, e))
    return Plan(reads=reads, replies=replies, statuses=statuses)


def _replies(
    state: OutboxState,
    events: Sequence[RecordedEvent],
    now: datetime,
    policy: SendPolicy,
    unperformed: frozenset[str],
) -> Iterator[ReplyDecision]:
    replies = [e for e in events if isinstance(e.payload, ReplyQueued)]
    due = any(isinstance(e.payload, OutboundRetryDue) for e in events)
    if due:  # everything still unsent to this person, in queue order
        replies = state.unsent()
    elif state.retrying():  # in order per person: newer replies wait behind a retry
        replies = []
    attempted = state.attempted_only() - unperformed
    quick = 1 if due else policy.quick_attempts
    for group in groups(replies, state.done, attempted):
        lead: ReplyQueued = group[0].payload
        if lead.outbound_id in attempted:
            yield _unknown_outcome(state, group[0])
        elif not outbound_allowed(lead.kind, state.last_inbound_at, now):
            title = "outside the 24-hour window: not sent"
            failed = OutboundFailed(
                outbound_id=lead.outbound_id, code=WINDOW_CODE, title=title, retryable=False
            )
            yield _fail(group, failed)
        else:
            tried = max(state.last_attempt.get(_oid(q), 0) for q in group)  # earlier rounds
            yield Send(group=group, to=lead.to, first_attempt=tried + 1, quick=quick)


# -- one send ---------------------------------------------------------------------------


def attempts(send: Send, attempt: int) -> tuple[Record, ...]:
    """Attempt ``attempt`` of ``send``, recorded for every reply before Meta is called."""
    carrier = send.group[0]  # its event id is each attempt's cause (merged sends)
    return tuple(
        Record(
            q, f"attempt:{attempt}", OutboundAttempted(outbound_id=_oid(q), attempt=attempt),
            carrier,
        )
        for q in send.group
    )  # fmt: skip


def sent(send: Send, wamid: str) -> tuple[Record, ...]:
    """Meta took ``send`` and answered ``wamid``: every reply of the group is sent."""
    return tuple(
        Record(q, "sent", OutboundSent(outbound_id=_oid(q), wamid=wamid)) for q in send.group
    )


def recipient_gone(send: Send) -> Fail:
    """The person was erased before the send: nothing to send to, nobody to escalate to."""
    gone = OutboundFailed(
        outbound_id=send.outbound_id, code=None, title=RECIPIENT_ERASED, retryable=False
    )
    return Fail(records=tuple(_each(send.group, "failed", gone)))


def after_error(
    state: OutboxState,
    send: Send,
    error: SendError,
    tries: Tries,
    *,
    now: datetime,
    jitter: float,
    policy: SendPolicy = DEFAULT_POLICY,
) -> AfterError:
    """The verdict on a failed attempt of ``send`` (``tries``: the counts before it)."""
    if _paced(error) and tries.paced < policy.max_pair_waits:
        return WaitForPacing(tries=replace(tries, paced=tries.paced + 1))
    failures = tries.failures + 1
    if _transient(error) and failures < send.quick:
        delay = backoff_delay(
            failures, base=policy.backoff_base, jitter=jitter, retry_after=error.retry_after
        )
        return RetryNow(delay=delay, tries=replace(tries, failures=failures))
    if _transient(error) and (
        retry := _schedule(state, send, error, now=now, jitter=jitter, policy=policy)
    ):
        return retry
    return _fail(send.group, _failure(send.outbound_id, error), error)


def _schedule(
    state: OutboxState,
    send: Send,
    error: SendError,
    *,
    now: datetime,
    jitter: float,
    policy: SendPolicy,
) -> ScheduleRetry | None:
    """The next durable retry of ``send``; None past the horizon or the window."""
    lead = send.group[0]
    oid = _oid(lead)
    retry = state.scheduled.get(oid, 0) + 1
    since = state.first_failed.get(oid, now)
    due = policy.retry.next_due(
        retry,
        failed_at=now,
        first_failed_at=since,
        kind=lead.payload.kind,
        last_inbound_at=state.last_inbound_at,
        jitter=jitter,
    )
    if due is None:
        return None
    title = (error.title or error.message)[:200]
    records = tuple(
        Record(q, f"retry:{retry}", OutboundRetryScheduled(
            outbound_id=_oid(q), retry=retry, due_at=due, first_failed_at=since,
            code=error.code, title=title,
        ))
        for q in send.group
    )  # fmt: skip
    return ScheduleRetry(
        records=records, outbound_id=oid, retry=retry, due_at=due, code=error.code,
        outage=outage(error),
    )  # fmt: skip


def _each(group: Group, step: str, payload: OutboundFailed) -> Iterator[Record]:
    """``payload`` recorded for every reply of ``group``, each under its own id."""
    return (Record(q, step, replace(payload, outbound_id=_oid(q))) for q in group)


def _fail(group: Group, failed: OutboundFailed, error: SendError | None = None) -> Fail:
    """The failure recorded for every reply of ``group``; escalated if it is permanent."""
    records = tuple(_each(group, "failed", failed))
    if failed.retryable or failed.outcome_unknown:
        return Fail(records=records)
    operator = error is not None and error.alert_operator
    title = _error_title(error) if error is not None else (failed.title or "")
    return Fail(records=records, escalation=_escalation(group[0], failed.code, title, operator))


def _escalation(
    queued: RecordedEvent, code: int | None, title: str, operator: bool, source: str = "send"
) -> Escalation:
    """Escalate to support with a push; a fault of ours is an operator alert instead.

    The operator alert (event, review item, metric) is recorded for every failed
    message; its push is offered to the shell, which sends at most one per error code
    per interval (:class:`AlertPushes`), so an expired token does not page support for
    every message.
    """
    oid = _oid(queued)
    escalated = Record(queued, "escalated", ConversationEscalated(reason="send_failed"))
    if not operator:
        key = queued.stream.removeprefix("conversation-")
        push = alerts.escalation(_push_id(oid, "escalation"), key, "send_failed")
        return Escalation(records=(escalated, Record(queued, "escalation-push", push)))
    alerted = OperatorAlerted(outbound_id=oid, code=code, title=title[:300], source=source)
    push = alerts.operator_alert(_push_id(oid, "operator"), code, title)
    return Escalation(
        records=(escalated, Record(queued, "operator-alerted", alerted)),
        alert=OperatorAlert(stream=queued.stream, outbound_id=oid, code=code, title=title),
        operator_push=Record(queued, "operator-push", push),
    )


@dataclass(frozen=True, slots=True)
class AlertPushes:
    """When each error code's operator push last went out (monotonic seconds)."""

    interval: float = ALERT_PUSH_INTERVAL
    last: Mapping[int | None, float] = field(default_factory=lambda: _NO_PUSHES)

    def admit(self, code: int | None, now: float) -> tuple[AlertPushes, bool]:
        """Whether a push for ``code`` may go out at ``now``, and the state after it."""
        last = self.last.get(code)
        if last is not None and now - last < self.interval:
            return self, False
        return replace(self, last=MappingProxyType({**self.last, code: now})), True


# -- crash recovery, status webhooks, read receipts ---------------------------------------


def _unknown_outcome(state: OutboxState, queued: RecordedEvent) -> Reconcile | GiveUpUnknown:
    oid = _oid(queued)
    proof = state.proof_for({oid, state.carriers.get(oid, oid)})
    if proof is not None:
        done = OutboundReconciled(outbound_id=oid, wamid=proof.wamid, status=proof.status)
        return Reconcile(records=(Record(queued, "reconciled", done),))
    failed = OutboundFailed(
        outbound_id=oid,
        code=None,
        retryable=False,
        outcome_unknown=True,
        title="interrupted mid-send: outcome unknown, not resent",
    )
    return GiveUpUnknown(records=(Record(queued, "failed", failed),))


def _status(state: OutboxState, event: RecordedEvent) -> tuple[StatusDecision, ...]:
    """What a status webhook asks for: an escalation, late reconciliations, or nothing."""
    status = event.payload
    if not isinstance(status, StatusReceived):
        return ()
    queued = state.queued_for(status)
    if queued is None:
        return ()
    if status.status == "failed":
        verdicts = [classify_send_error(None, e.code) for e in status.errors]
        if not verdicts or any(v.transient for v in verdicts):
            return ()
        operator = any(v.alert_operator for v in verdicts)
        title = status.errors[0].title or "failed status"
        code = status.errors[0].code
        return (Escalate(_escalation(queued, code, title, operator, source="status")),)
    # A late proof of delivery for sends left as "outcome unknown" (merged ones too).
    late = sorted((state.unknown - state.reconciled) & state.queued.keys(), key=_order(state))
    return tuple(
        Reconcile(records=(Record(state.queued[oid], "reconciled", OutboundReconciled(
            outbound_id=oid, wamid=status.wamid, status=status.status
        )),))
        for oid in late
        if state.carriers.get(oid) == _oid(queued)
    )  # fmt: skip


def read_receipts(
    state: OutboxState, events: Sequence[RecordedEvent], now: datetime
) -> tuple[MarkAsRead, ...]:
    """Blue ticks and typing for the latest fresh message of each sender in ``events``.

    Marking a message read marks the earlier ones of the chat too (Meta), so a burst
    handled together costs one call per sender, not one per message. A message a turn
    already answered, or older than the typing indicator lasts, gets none.
    """
    latest: dict[str, str] = {}  # sender -> wamid of their latest fresh message
    for e in events:
        m = e.payload
        if not isinstance(m, MessageReceived) or str(e.event_id) in state.answered:
            continue
        to = m.phone or m.bsuid
        if to and now - m.sent_at < TYPING_FRESH:
            latest[to] = m.wamid
    return tuple(MarkAsRead(to=to, wamid=wamid) for to, wamid in latest.items())


# -- small rules --------------------------------------------------------------------------


def _transient(error: SendError) -> bool:
    """Meta did not take the message, for a reason that may pass: worth another try."""
    return isinstance(error, TransientSendError) and not error.outcome_unknown


def _paced(error: SendError) -> bool:
    """Meta refused for the pair rate (131056): wait, the message is fine."""
    return error.code == PAIR_RATE_CODE and not error.outcome_unknown


def _error_title(error: SendError) -> str:
    """Meta's title with its message (190's title is only ``OAuthException``)."""
    if error.title and error.title not in error.message:
        return f"{error.title}: {error.message}"
    return error.message


def _failure(outbound_id: str, error: SendError) -> OutboundFailed:
    return OutboundFailed(
        outbound_id=outbound_id,
        code=error.code,
        title=error.title or error.message[:200],
        retryable=isinstance(error, TransientSendError),
        outcome_unknown=error.outcome_unknown,
    )


def _push_id(outbound_id: str, kind: str) -> str:
    """A deterministic notification id: a re-run requests the same push, not a second one."""
    return str(uuid.uuid5(OUTBOX_NAMESPACE, f"{outbound_id}:push:{kind}"))


def _oid(queued: RecordedEvent) -> str:
    oid: str = queued.payload.outbound_id
    return oid


def _order(state: OutboxState) -> Callable[[str], int]:
    """Sort key: replies in the order they were queued (the log's)."""
    return lambda oid: state.queued[oid].version
