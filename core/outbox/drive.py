"""The outbox as a decider for the one runner: a batch's plan carried out step by step.

``decide(state, batch, recorded, now, ids)`` computes the batch's plan
(:func:`core.outbox.decide.decide`, from the state loaded at the start of the run, as
before) and walks it, consuming one recorded outcome per request it made earlier in the
run (:mod:`core.outbox.requests`). Where an outcome is missing it stops and asks for that
work, listing the records decided so far ahead of it; once every step has its outcome it
settles with all of them. The walk is deterministic, so every round re-walks the same
path and the records decided ahead stay first and unchanged, as the runner requires.

Per send: the person's number (:class:`Resolve`); per attempt, in one round, a pacing
token (:class:`Pace`, asked through ``RecordFirst`` with no intent, so the records decided
so far are written before any wait) and the call (:class:`Call`, asked through
``RecordFirst`` with the attempt as its intent: stored before Meta is called, never called
when another handling stored it first). A failed call is judged by
:func:`~core.outbox.decide.after_error` with the time and jitter the shell recorded; a
quick retry after an outage failure (5xx, refused: it certainly delivered nothing) gives
the person's pair token back first (``Pace(refund=True)``, ADR 0036); a scheduled retry
is written before the timer is told and ends the replies of the batch (in order per
person); statuses are carried out either way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

from core.conversation import recipient
from core.decider import Decider, Decision, RecordFirst
from core.outbound import OutboundMessage
from core.outbox.decide import after_error, attempts, decide, recipient_gone, sent
from core.outbox.decisions import (
    DEFAULT_POLICY,
    Escalate,
    Escalation,
    Fail,
    GiveUpUnknown,
    Reconcile,
    Record,
    RetryNow,
    ScheduleRetry,
    Send,
    SendPolicy,
    Tries,
    WaitForPacing,
)
from core.outbox.requests import (
    Alert,
    AlertAdmitted,
    Answered,
    Call,
    LogNote,
    MarkReads,
    OutboxEvent,
    OutboxOutcome,
    OutboxRequest,
    Owned,
    Pace,
    Refused,
    Remind,
    Resolve,
    Resolved,
)
from core.outbox.state import OutboxState, initial
from core.send_errors import outage
from events.base import ERASED, RecordedEvent


@dataclass(frozen=True, slots=True)
class Batch:
    """The inputs of one run: a batch of a conversation stream's events, and the policy."""

    events: tuple[RecordedEvent, ...]
    policy: SendPolicy = DEFAULT_POLICY
    unperformed: frozenset[str] = frozenset()  # see core.outbox.decide.decide


Ask = OutboxRequest | RecordFirst[OutboxEvent, OutboxRequest]


class _Pending(Exception):  # noqa: N818 - control flow inside the walk, never escapes it
    """The walk reached work with no outcome yet."""

    def __init__(self, *requests: Ask) -> None:
        self.requests = requests


class _Walk:
    """The records decided so far, and the outcomes recorded so far, consumed in order."""

    def __init__(self, state: OutboxState, recorded: Sequence[OutboxEvent], policy: SendPolicy):
        self.state, self.policy = state, policy
        self._outcomes = iter(recorded)
        self.events: list[OutboxEvent] = []

    def ask(self, request: Ask) -> OutboxOutcome:
        """The outcome of ``request`` when the run has it; else stop and ask for it."""
        return self._next(request)

    def ask_both(self, first: Ask, then: Ask) -> tuple[OutboxOutcome, OutboxOutcome]:
        """Two pieces of work asked in one round (the runner performs a decision's
        requests in order, so their outcomes come together or not at all)."""
        return self._next(first, then), self.ask(then)

    def _next(self, *requests: Ask) -> OutboxOutcome:
        outcome = next(self._outcomes, None)
        if outcome is None:
            raise _Pending(*requests)
        assert not isinstance(outcome, Record | LogNote)
        return outcome

    def add(self, records: Sequence[OutboxEvent]) -> None:
        """Decide ``records`` (appended before the next work, or at the end)."""
        self.events.extend(records)


def decide_batch(
    state: OutboxState,
    batch: Batch,
    recorded: tuple[OutboxEvent, ...],
    now: datetime,
    _ids: Iterator[str],
) -> Decision[OutboxEvent, OutboxRequest]:
    """The next work of ``batch``'s plan, or every record once all work has its outcome."""
    walk = _Walk(state, recorded, batch.policy)
    try:
        _carry(walk, batch, now)
    except _Pending as pending:
        return Decision(events=tuple(walk.events), requests=pending.requests)
    return Decision(events=tuple(walk.events))


def _carry(walk: _Walk, batch: Batch, now: datetime) -> None:
    plan = decide(walk.state, batch.events, now, batch.policy, batch.unperformed)
    if plan.reads:
        walk.ask(MarkReads(plan.reads))
    for decision in plan.replies:
        match decision:
            case Send():
                if _send(walk, decision):
                    break  # a retry is scheduled: later replies wait behind it, in order
            case Fail():
                _fail(walk, decision)
            case Reconcile():
                walk.add(decision.records)
            case GiveUpUnknown():
                walk.add((LogNote("outbox.outcome_unknown", decision.outbound_id),))
                walk.add(decision.records)
            case _:
                assert_never(decision)
    for outcome in plan.statuses:
        match outcome:
            case Reconcile():
                walk.add(outcome.records)
            case Escalate():
                walk.add(_escalation(walk, outcome.escalation))
            case _:
                assert_never(outcome)


def _send(walk: _Walk, send: Send) -> bool:
    """Attempts of ``send`` until an outcome is decided; True when a retry was scheduled."""
    found = walk.ask(Resolve(send.to))
    assert isinstance(found, Resolved)
    if found.number is None or found.number == ERASED:
        _fail(walk, recipient_gone(send))
        return False
    message = OutboundMessage(
        outbound_id=send.outbound_id, to=recipient(found.number), content=send.content
    )
    tries, pace = Tries(), Pace(message.to)
    for attempt in itertools.count(send.first_attempt):
        owned = (Owned(send.outbound_id, attempt),)
        # One round: what is decided so far is written before the wait, the attempt before the call.
        _paced, called = walk.ask_both(
            RecordFirst(pace), RecordFirst(Call(message), attempts(send, attempt), owned)
        )
        match called:
            case Owned():
                # Another handling (stale state, a reply delivered twice) made it and owns the call.
                walk.add((LogNote("outbox.attempt_already_recorded", send.outbound_id, True),))
                return False
            case Answered():
                walk.add(sent(send, called.wamid))
                return False
            case Refused():
                verdict = after_error(
                    walk.state, send, called.error, tries, now=called.at, jitter=called.jitter,
                    policy=walk.policy,
                )  # fmt: skip
                # A 5xx or a refused connection delivered nothing: it gives its pair token back.
                refund = outage(called.error)
            case _:
                raise TypeError(f"not the outcome of a call: {called!r}")
        match verdict:
            case WaitForPacing():
                tries, pace = verdict.tries, Pace(message.to, penalize=True)
            case RetryNow():
                tries, pace = verdict.tries, Pace(message.to, verdict.delay, refund=refund)
            case ScheduleRetry():
                _schedule(walk, verdict)
                return True
            case Fail():
                _fail(walk, verdict)
                return False
            case _:
                assert_never(verdict)
    return False  # not reached: the loop returns


def _schedule(walk: _Walk, retry: ScheduleRetry) -> None:
    """The durable retry is written, then the timer told (it also finds it after a restart)."""
    stream = retry.records[0].queued.stream
    remind = Remind(
        stream, retry.outbound_id, retry.retry, retry.due_at, retry.code, outage=retry.outage
    )
    walk.add(retry.records)
    walk.ask(RecordFirst(remind))  # written ahead: the timer is told once they are stored


def _fail(walk: _Walk, fail: Fail) -> None:
    """The failure's records, with its escalation's when there is one."""
    walk.add(fail.records)
    if fail.escalation is not None:
        walk.add(_escalation(walk, fail.escalation))


def _escalation(walk: _Walk, escalation: Escalation) -> tuple[Record, ...]:
    """The escalation's records; an operator alert goes to the shell, its push throttled."""
    if escalation.alert is None:
        return escalation.records
    admitted = walk.ask(Alert(escalation.alert))
    assert isinstance(admitted, AlertAdmitted)
    if admitted.push and escalation.operator_push is not None:
        return (*escalation.records, escalation.operator_push)
    return escalation.records


def _as_decided(state: OutboxState, _event: OutboxEvent) -> OutboxState:
    """A decided record changes nothing until it is stored: the state folds stored events
    (:func:`core.outbox.state.evolve`, which the shell's cache applies)."""
    return state


OUTBOX: Decider[OutboxState, Batch, OutboxEvent, OutboxRequest] = Decider(
    initial, _as_decided, decide_batch
)
