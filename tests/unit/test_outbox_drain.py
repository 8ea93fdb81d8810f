"""After an outage the backlog drains in seconds (ADR 0036): pure rules, no store, no HTTP.

Which failures are an outage (Meta or the network down, nothing delivered), which
retries a send accepted again pulls forward and when, and the pair token an outage
attempt gives back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.decider import RecordFirst
from core.outbox.drive import Batch
from core.outbox.requests import OutboxEvent, Pace, Paced, Refused, Remind, Resolved
from core.pacing import Pacer
from core.send_errors import PermanentSendError, SendError, TransientSendError, outage
from core.send_retry import Pending, pull_forward
from tests.unit.outbox_given import KEY, NOW, Stream, inbound, text
from tests.unit.test_outbox_drive import step
from tests.unit.test_outbox_verdicts import POLICY

ANNA, BRUNO, CARLA = "conversation-anna", "conversation-bruno", "conversation-carla"


def at(seconds: float) -> timedelta:
    """``seconds`` as a duration after NOW."""
    return timedelta(seconds=seconds)


def down() -> TransientSendError:
    """Meta's answer when it is down: HTTP 500, code 1."""
    return TransientSendError("unknown error", http_status=500, code=1)


def refused() -> TransientSendError:
    """The connection was refused: nothing was written."""
    return TransientSendError("cannot connect to the Graph API")


def throttled() -> TransientSendError:
    """The number's throughput limit: Meta is up and said "not so fast"."""
    return TransientSendError("throughput", http_status=429, code=130429)


@pytest.mark.parametrize("error", [down(), refused()], ids=["5xx", "refused"])
def test_a_5xx_or_a_refused_connection_is_an_outage(error: SendError) -> None:
    """Nothing was delivered and the cause is not the recipient's: an outage."""
    assert outage(error)


@pytest.mark.parametrize(
    "error",
    [
        throttled(),
        TransientSendError("pair rate", http_status=400, code=131056),
        TransientSendError("app rate", http_status=500, code=4),
        TransientSendError("too many", http_status=429),
        TransientSendError("timed out", outcome_unknown=True),
        PermanentSendError("bad number", http_status=400, code=131026),
    ],
    ids=["130429", "131056", "code-4-on-500", "bare-429", "unknown-outcome", "permanent"],
)
def test_rate_limits_unknown_outcomes_and_permanent_failures_are_not(error: SendError) -> None:
    """A rate limit keeps its schedule; an unknown outcome never counts as nothing sent."""
    assert not outage(error)


def quick_attempts_refused(error: SendError) -> list[OutboxEvent]:
    """The outcomes of a reply's quick attempts, each refused with ``error``."""
    outcomes: list[OutboxEvent] = [Resolved(KEY)]
    for _ in range(POLICY.quick_attempts):
        outcomes += [Paced(), Refused(error, at=NOW, jitter=0.0)]
    return outcomes


def scheduled_remind(error: SendError) -> Remind:
    """The timer reminder of a reply whose quick attempts all failed with ``error``."""
    s = Stream()
    s.given(inbound())
    batch = Batch(tuple(s.when(text("o1"))), POLICY)
    [remind] = step(s, batch, *quick_attempts_refused(error)).requests
    assert isinstance(remind, RecordFirst)
    assert isinstance(remind.request, Remind)
    return remind.request


def test_a_retry_scheduled_in_an_outage_tells_the_timer_so() -> None:
    """The reminder of a 5xx retry is marked as the outage's: it may be pulled forward."""
    assert scheduled_remind(down()).outage


def test_a_rate_limited_retry_keeps_its_schedule() -> None:
    """The reminder of a 130429 retry is not marked: it fires at its time."""
    assert not scheduled_remind(throttled()).outage


def next_pace(error: SendError) -> Pace:
    """The pacing request before the quick retry that follows ``error``."""
    s = Stream()
    s.given(inbound())
    batch = Batch(tuple(s.when(text("o1"))), POLICY)
    refusal = Refused(error, at=NOW, jitter=0.0)
    [pace, _call] = step(s, batch, Resolved(KEY), Paced(), refusal).requests
    assert isinstance(pace, RecordFirst)
    assert isinstance(pace.request, Pace)
    return pace.request


@pytest.mark.parametrize("error", [down(), refused()], ids=["5xx", "refused"])
def test_an_attempt_that_delivered_nothing_gives_its_pair_token_back(error: SendError) -> None:
    """After a 5xx or a refused connection the quick retry refunds the person's token."""
    assert next_pace(error).refund


def test_a_rate_limited_attempt_keeps_its_pair_token() -> None:
    """After a 429 the token stays spent (conservative: Meta is up and counting)."""
    assert not next_pace(throttled()).refund


def test_a_refunded_token_lets_the_next_attempt_go_without_waiting() -> None:
    """Burst spent by attempts answered 500: a refund makes a token available again."""
    pacer = Pacer.of(80.0, interval=6.0, burst=1)
    pacer, wait = pacer.take(KEY, 100.0)
    assert wait == 0.0
    assert pacer.take(KEY, 100.5)[1] > 0.0
    assert pacer.refund(KEY, 100.5).take(KEY, 100.5)[1] == 0.0


def test_a_refund_never_fills_a_bucket_past_its_burst() -> None:
    """Two refunds after one take give back one token: the burst stays the burst."""
    pacer = Pacer.of(80.0, interval=6.0, burst=2)
    pacer, _ = pacer.take(KEY, 100.0)
    pacer = pacer.refund(KEY, 100.0).refund(KEY, 100.0)
    pacer, first = pacer.take(KEY, 100.0)
    pacer, second = pacer.take(KEY, 100.0)
    _, third = pacer.take(KEY, 100.0)
    assert (first, second) == (0.0, 0.0)
    assert third > 0.0


def test_meta_answering_pulls_the_outage_retries_forward_earliest_first() -> None:
    """Due in 300, 40 and 160 s: now due at once, spread one per 1/rate s, earliest first."""
    pending = [
        Pending(NOW + at(300), ANNA, "a1", 6, outage=True),
        Pending(NOW + at(40), BRUNO, "b1", 3, outage=True),
        Pending(NOW + at(160), CARLA, "c1", 5, outage=True),
    ]
    pulled = sorted(pull_forward(pending, now=NOW, rate=10.0))
    assert [(p.outbound_id, p.due_at) for p in pulled] == [
        ("b1", NOW),
        ("c1", NOW + at(0.1)),
        ("a1", NOW + at(0.2)),
    ]
    assert not any(p.outage for p in pulled)
    assert [p.retry for p in pulled] == [3, 5, 6]


def test_rate_limited_retries_keep_their_time_when_meta_answers() -> None:
    """Only the outage's retries move; a rate limit's is returned unchanged."""
    limited = Pending(NOW + at(300), ANNA, "a1", 6, outage=False)
    down_ = Pending(NOW + at(300), BRUNO, "b1", 6, outage=True)
    pulled = pull_forward([limited, down_], now=NOW, rate=80.0)
    assert limited in pulled
    assert Pending(NOW, BRUNO, "b1", 6, outage=False) in pulled


def test_a_retry_due_sooner_than_its_place_in_the_spread_keeps_its_time() -> None:
    """Never later than it was: one already due stays, one due in 0.05 s does not move to
    0.1 s; both lose their mark (the next accepted send has nothing left to pull)."""
    pending = [
        Pending(NOW - at(1), ANNA, "a1", 1, outage=True),
        Pending(NOW + at(0.05), BRUNO, "b1", 1, outage=True),
    ]
    pulled = sorted(pull_forward(pending, now=NOW, rate=10.0))
    assert [p.due_at for p in pulled] == [NOW - at(1), NOW + at(0.05)]
    assert not any(p.outage for p in pulled)
