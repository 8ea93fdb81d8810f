"""The outbox decider on the runner: one piece of work at a time, the attempt recorded first."""

from __future__ import annotations

from collections.abc import Sequence

from core.decider import Decision, RecordFirst
from core.outbox.decisions import SendPolicy
from core.outbox.drive import Batch, decide_batch
from core.outbox.requests import (
    Answered,
    Call,
    LogNote,
    OutboxEvent,
    OutboxRequest,
    Owned,
    Pace,
    Paced,
    Refused,
    Remind,
    Resolve,
    Resolved,
)
from core.send_errors import TransientSendError
from core.send_retry import RetrySchedule
from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OutboundAttempted
from events.send_retries import OutboundRetryScheduled
from tests.unit.outbox_given import KEY, NOW, Stream, inbound, text
from tests.unit.test_outbox_verdicts import POLICY

Decided = Decision[OutboxEvent, OutboxRequest]


def step(s: Stream, batch: Batch, *outcomes: OutboxEvent) -> Decided:
    """The decision after the run has recorded ``outcomes``."""
    return decide_batch(s.state, batch, tuple(outcomes), NOW, iter(()))


def one_text(*oids: str) -> tuple[Stream, Batch]:
    """A stream inside the window and a batch queuing texts ``oids``."""
    s = Stream()
    s.given(inbound())
    return s, Batch(tuple(s.when(*(text(oid) for oid in oids))), POLICY)


def payloads(events: Sequence[OutboxEvent]) -> list[object]:
    """The stored payloads among decided events."""
    return [getattr(e, "payload", e) for e in events if not isinstance(e, LogNote)]


def busy(code: int = 500) -> Refused:
    """Meta failed transiently."""
    error = TransientSendError("busy", http_status=500, code=code, title="busy")
    return Refused(error, at=NOW, jitter=0.0)


def test_a_reply_asks_for_the_number_then_a_token_then_the_call_recorded_first() -> None:
    """Resolve, pace (writing what is decided), then the call with its attempt as intent."""
    s, batch = one_text("o1")
    assert step(s, batch).requests == (Resolve(KEY),)
    [pace, call] = step(s, batch, Resolved(KEY)).requests
    assert pace == RecordFirst(Pace(KEY))
    assert isinstance(call, RecordFirst)
    assert isinstance(call.request, Call)
    assert payloads(call.intent) == [OutboundAttempted(outbound_id="o1", attempt=1)]
    assert call.skipped == (Owned("o1", 1),)


def test_an_answered_call_settles_with_the_sent_records() -> None:
    """Meta's wamid becomes ``OutboundSent``; nothing more is asked."""
    s, batch = one_text("o1")
    done = step(s, batch, Resolved(KEY), Paced(), Answered("wamid.x"))
    assert done.settled
    assert payloads(done.events) == [OutboundSent(outbound_id="o1", wamid="wamid.x")]


def test_an_attempt_owned_elsewhere_sends_nothing_and_records_no_outcome() -> None:
    """A stored attempt (another handling owns the call): no outcome, a log line."""
    s = Stream()
    s.given(inbound())
    batch = Batch(tuple(s.when(text("o1"), text("o2"))), POLICY)
    decided = step(s, batch, Resolved(KEY), Paced(), Owned("o1", 1))
    assert decided.settled
    assert [e for e in decided.events if isinstance(e, LogNote)] == [
        LogNote("outbox.attempt_already_recorded", "o1", error=True)
    ]
    assert payloads(decided.events) == []


def test_a_transient_failure_pauses_before_the_next_token() -> None:
    """A quick retry waits its backoff in the next pacing request, then tries attempt 2."""
    s, batch = one_text("o1")
    [pace, call] = step(s, batch, Resolved(KEY), Paced(), busy()).requests
    assert isinstance(pace, RecordFirst)
    assert isinstance(pace.request, Pace)
    assert pace.request.pause > 0
    assert not pace.request.penalize
    assert isinstance(call, RecordFirst)
    assert payloads(call.intent) == [OutboundAttempted(outbound_id="o1", attempt=2)]


def test_a_pair_rate_refusal_empties_the_bucket_and_tries_the_same_attempt_count() -> None:
    """131056 is waited out: the next token is taken after the person's bucket is emptied."""
    s, batch = one_text("o1")
    [pace, _call] = step(s, batch, Resolved(KEY), Paced(), busy(code=131056)).requests
    assert isinstance(pace, RecordFirst)
    assert pace.request == Pace(KEY, penalize=True)


def test_spent_quick_attempts_record_the_schedule_before_telling_the_timer() -> None:
    """The durable retry is written ahead of the timer's reminder; the send stops there."""
    s, batch = one_text("o1")
    outcomes: list[OutboxEvent] = [Resolved(KEY)]
    for _ in range(POLICY.quick_attempts):
        outcomes += [Paced(), busy()]
    decided = step(s, batch, *outcomes)
    [remind] = decided.requests
    assert isinstance(remind, RecordFirst)
    assert isinstance(remind.request, Remind)
    [scheduled] = payloads(decided.events)
    assert isinstance(scheduled, OutboundRetryScheduled)
    assert scheduled.retry == 1


def test_past_the_horizon_the_failure_is_recorded_without_a_reminder() -> None:
    """No durable retry left: the last failure settles as ``OutboundFailed``."""
    s = Stream()
    s.given(inbound())
    no_retries = SendPolicy(quick_attempts=1, retry=RetrySchedule(horizon=0.0))
    batch = Batch(tuple(s.when(text("o1"))), no_retries)
    done = step(s, batch, Resolved(KEY), Paced(), busy())
    assert done.settled
    [failed] = payloads(done.events)
    assert isinstance(failed, OutboundFailed)
    assert failed.retryable


def test_an_erased_recipient_fails_without_a_call() -> None:
    """No number behind the person: the failure is recorded, nothing is paced or called."""
    s, batch = one_text("o1")
    done = step(s, batch, Resolved(None))
    assert done.settled
    [failed] = payloads(done.events)
    assert isinstance(failed, OutboundFailed)
    assert failed.code is None
