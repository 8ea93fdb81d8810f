"""The outbox decider's verdict on a failed attempt: by Meta's code, paced, bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.outbox.decide import AlertPushes, after_error, attempts, decide, recipient_gone, sent
from core.outbox.decisions import (
    AfterError,
    Fail,
    RetryNow,
    ScheduleRetry,
    Send,
    SendPolicy,
    Tries,
    WaitForPacing,
)
from core.pacing import Pacer
from core.send_errors import PermanentSendError, SendError, TransientSendError
from core.send_retry import RetrySchedule
from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OperatorAlerted, OutboundAttempted
from events.send_retries import OutboundRetryScheduled
from tests.unit.outbox_given import NOW, Stream, inbound, text

POLICY = SendPolicy(quick_attempts=4, backoff_base=0.5, max_pair_waits=2)


def planned(*oids: str, last_inbound: timedelta = timedelta(minutes=1)) -> tuple[Stream, Send]:
    """A stream whose batch of texts ``oids`` the decider sends as one group."""
    s = Stream()
    s.given(inbound(at=NOW - last_inbound))
    batch = s.when(*(text(oid) for oid in oids))
    [send] = decide(s.state, batch, NOW, POLICY).replies
    assert isinstance(send, Send)
    return s, send


def verdict(
    s: Stream, send: Send, error: SendError, tries: Tries | None = None, policy: SendPolicy = POLICY
) -> AfterError:
    """``after_error`` with no jitter (the shortest waits), at ``NOW``."""
    return after_error(s.state, send, error, tries or Tries(), now=NOW, jitter=0.0, policy=policy)


def transient(code: int | None = None, http: int | None = 500) -> TransientSendError:
    """A transient Graph API error, as the real messenger raises it."""
    return TransientSendError("boom", http_status=http, code=code, title="boom")


def test_131056_is_waited_out_without_counting_a_failure() -> None:
    """Meta's pair rate answer asks the shell to wait for pacing; failures stay at zero."""
    s, send = planned("a")
    out = verdict(s, send, transient(code=131056, http=400))
    assert out == WaitForPacing(tries=Tries(failures=0, paced=1))


def test_the_pacing_wait_after_131056_is_a_whole_interval() -> None:
    """After the verdict the shell empties the person's bucket: the next send waits 6 s."""
    pacer = Pacer.of(80.0, interval=6.0, burst=3).penalize("+393331234567", now=100.0)
    _, wait = pacer.take("+393331234567", now=100.0)
    assert wait == pytest.approx(6.0)


def test_131056_past_the_allowed_waits_counts_as_a_transient_failure() -> None:
    """After ``max_pair_waits`` waits, 131056 is retried like any transient failure."""
    s, send = planned("a")
    out = verdict(s, send, transient(code=131056, http=400), Tries(paced=2))
    assert out == RetryNow(delay=0.25, tries=Tries(failures=1, paced=2))


@pytest.mark.parametrize(
    ("code", "http"), [(130429, 400), (None, 429), (None, 500), (None, 503), (131000, 500)]
)
def test_rate_limits_and_server_errors_are_retried_now_with_backoff(
    code: int | None, http: int
) -> None:
    """130429, HTTP 429 and 5xx within the quick attempts: base * 2**(n-1), halved (jitter 0)."""
    s, send = planned("a")
    assert verdict(s, send, transient(code=code, http=http), Tries(failures=2)) == RetryNow(
        delay=1.0, tries=Tries(failures=3)
    )


def test_metas_retry_after_is_a_floor_for_the_backoff() -> None:
    """A ``retry_after`` longer than the backoff is waited in full."""
    s, send = planned("a")
    error = TransientSendError("slow down", http_status=429, retry_after=7.0)
    out = verdict(s, send, error)
    assert isinstance(out, RetryNow)
    assert out.delay == 7.0


def test_quick_attempts_spent_schedule_a_durable_retry_for_every_reply_of_the_group() -> None:
    """The fourth transient failure records ``OutboundRetryScheduled`` 2.5 s later (5 s halved)."""
    s, send = planned("a", "b")
    out = verdict(s, send, transient(code=131000), Tries(failures=3))
    assert isinstance(out, ScheduleRetry)
    assert (out.outbound_id, out.retry, out.due_at) == ("a", 1, NOW + timedelta(seconds=2.5))
    assert [(r.step, r.payload.outbound_id) for r in out.records] == [
        ("retry:1", "a"),
        ("retry:1", "b"),
    ]
    assert all(isinstance(r.payload, OutboundRetryScheduled) for r in out.records)
    assert out.records[0].payload.first_failed_at == NOW


def test_a_later_retry_doubles_the_wait_and_keeps_the_first_failure_time() -> None:
    """Retry 3 of a reply first failed 20 s ago waits 10 s (20 s halved) and keeps its start."""
    s, send = planned("a")
    for n in (1, 2):
        s.given(OutboundRetryScheduled(
            outbound_id="a", retry=n, due_at=NOW, first_failed_at=NOW - timedelta(seconds=20)
        ))  # fmt: skip
    out = verdict(s, send, transient(), Tries(failures=3))
    assert isinstance(out, ScheduleRetry)
    assert (out.retry, out.due_at) == (3, NOW + timedelta(seconds=10))
    assert out.records[0].payload.first_failed_at == NOW - timedelta(seconds=20)


def test_what_is_unsent_at_the_horizon_goes_to_the_review_queue() -> None:
    """Past the hour's horizon the failure is recorded retryable (a review item), not escalated."""
    s, send = planned("a")
    s.given(OutboundRetryScheduled(
        outbound_id="a", retry=5, due_at=NOW, first_failed_at=NOW - timedelta(seconds=3599)
    ))  # fmt: skip
    out = verdict(s, send, transient(), Tries(failures=3))
    assert isinstance(out, Fail)
    [failed] = [r.payload for r in out.records]
    assert (failed.retryable, failed.outcome_unknown, failed.code) == (True, False, None)
    assert out.escalation is None


def test_durable_retries_never_pass_the_24_hour_window() -> None:
    """A text whose window closes before the next retry is due fails at once, for review."""
    s, send = planned("a", last_inbound=timedelta(hours=23, minutes=59, seconds=58))
    assert isinstance(verdict(s, send, transient(), Tries(failures=3)), Fail)


def test_a_zero_horizon_turns_durable_retries_off() -> None:
    """``SEND_RETRY_HORIZON=0``: the quick attempts are all there is."""
    s, send = planned("a")
    off = SendPolicy(retry=RetrySchedule(horizon=0))
    out = verdict(s, send, transient(), Tries(failures=3), policy=off)
    assert isinstance(out, Fail)


@pytest.mark.parametrize(("code", "http"), [(131026, 400), (100, 400), (None, 400), (None, 404)])
def test_a_4xx_is_permanent_and_escalates_to_support(code: int | None, http: int) -> None:
    """A permanent failure is recorded once, not retried, and the conversation is escalated."""
    s, send = planned("a")
    out = verdict(s, send, PermanentSendError("no", http_status=http, code=code, title="no"))
    assert isinstance(out, Fail)
    [failed] = [r.payload for r in out.records]
    assert failed == OutboundFailed(outbound_id="a", code=code, title="no", retryable=False)
    assert out.escalation is not None
    assert [r.step for r in out.escalation.records] == ["escalated", "escalation-push"]


def test_an_expired_token_is_an_operator_alert_with_metas_title_and_message() -> None:
    """190 is the business's fault: ``OperatorAlerted`` (no support push) and an operator push."""
    s, send = planned("a")
    error = PermanentSendError(
        "Error validating access token", http_status=401, code=190, title="OAuthException",
        alert_operator=True,
    )  # fmt: skip
    out = verdict(s, send, error)
    assert isinstance(out, Fail)
    assert out.escalation is not None
    assert [r.step for r in out.escalation.records] == ["escalated", "operator-alerted"]
    alerted = out.escalation.records[1].payload
    assert alerted == OperatorAlerted(
        outbound_id="a", code=190, title="OAuthException: Error validating access token"
    )
    assert out.escalation.alert is not None
    assert out.escalation.operator_push is not None


def test_an_unknown_outcome_is_neither_retried_nor_escalated() -> None:
    """A timeout after the request was written may have delivered: recorded for review only."""
    s, send = planned("a")
    out = verdict(s, send, TransientSendError("timeout", outcome_unknown=True), Tries())
    assert isinstance(out, Fail)
    [failed] = [r.payload for r in out.records]
    assert (failed.outcome_unknown, failed.retryable) == (True, True)
    assert out.escalation is None


def test_attempts_and_sends_are_recorded_for_every_reply_of_a_merged_group() -> None:
    """Attempt 3 and the wamid are recorded under each reply's own id, steps named for ids."""
    _, send = planned("a", "b")
    assert [(r.step, r.payload) for r in attempts(send, 3)] == [
        ("attempt:3", OutboundAttempted(outbound_id="a", attempt=3)),
        ("attempt:3", OutboundAttempted(outbound_id="b", attempt=3)),
    ]
    assert [r.payload for r in sent(send, "wamid.x")] == [
        OutboundSent(outbound_id="a", wamid="wamid.x"),
        OutboundSent(outbound_id="b", wamid="wamid.x"),
    ]


def test_an_erased_recipient_fails_every_reply_without_escalating() -> None:
    """Nobody to send to and nobody to hand the conversation to."""
    _, send = planned("a", "b")
    out = recipient_gone(send)
    assert [r.payload.outbound_id for r in out.records] == ["a", "b"]
    assert out.escalation is None


def test_operator_pushes_go_out_once_per_code_per_interval() -> None:
    """A second 190 within ten minutes is not pushed; another code is; after it, 190 is."""
    pushes = AlertPushes(interval=600.0)
    pushes, first = pushes.admit(190, now=0.0)
    pushes, again = pushes.admit(190, now=599.0)
    pushes, other = pushes.admit(131031, now=599.0)
    _, later = pushes.admit(190, now=600.0)
    assert (first, again, other, later) == (True, False, True, True)
