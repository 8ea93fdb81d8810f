"""The outage benchmark's verdict: exactly once, in order, per person (no processes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from events.base import Metadata, RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyKind, ReplyQueued
from scripts.bench_outage import Accepted, audit

AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


def log(*entries: tuple[str, object]) -> list[RecordedEvent]:
    """``(stream, payload)`` pairs as stored events, in order."""
    return [stored(n, stream, payload) for n, (stream, payload) in enumerate(entries, 1)]


def stored(n: int, stream: str, payload: object) -> RecordedEvent:
    """``payload`` stored at position ``n``."""
    return RecordedEvent(
        position=n, event_id=uuid.uuid4(), stream=stream, version=n,
        type=type(payload).TYPE,  # type: ignore[attr-defined]
        schema_version=1, payload=payload, metadata=Metadata(), recorded_at=AT,
    )  # fmt: skip


def queued(stream: str, oid: str) -> tuple[str, ReplyQueued]:
    """A text reply decided in ``stream``."""
    return stream, ReplyQueued(outbound_id=oid, to="+39329", kind=ReplyKind.TEXT, text=oid)


def sent(stream: str, oid: str, wamid: str) -> tuple[str, OutboundSent]:
    """The reply's recorded send."""
    return stream, OutboundSent(outbound_id=oid, wamid=wamid)


def accepted(*pairs: tuple[str, str]) -> list[Accepted]:
    """``(wamid, first oid)`` accepted by the fake, in order."""
    return [Accepted(0.0, 0.0, "+39329", wamid, oid) for wamid, oid in pairs]


def test_a_merged_send_counts_once_for_each_reply_it_carried() -> None:
    """Two replies merged into one message, a third alone: all three exactly once, in order."""
    events = log(
        queued("a", "1"), queued("a", "2"), queued("a", "3"),
        sent("a", "1", "w1"), sent("a", "2", "w1"), sent("a", "3", "w2"),
    )  # fmt: skip
    result = audit(events, accepted(("w1", "1"), ("w2", "3")))
    assert result.ok
    assert result.delivered == 3


def test_a_reply_accepted_twice_is_caught() -> None:
    """The same reply accepted under two wamids (two sends recorded) fails the audit."""
    events = log(queued("a", "1"), sent("a", "1", "w1"), sent("a", "1", "w2"))
    result = audit(events, accepted(("w1", "1"), ("w2", "1")))
    assert (result.ok, result.twice) == (False, 1)


def test_a_send_the_log_does_not_know_is_caught() -> None:
    """A second accepted message the log has no OutboundSent for is a duplicate send."""
    events = log(queued("a", "1"), sent("a", "1", "w1"))
    result = audit(events, accepted(("w1", "1"), ("w9", "1")))
    assert (result.ok, result.unknown, result.twice) == (False, 1, 1)


def test_a_reply_never_accepted_is_missing() -> None:
    """A decided reply with no accepted message is missing, even with a send recorded."""
    events = log(queued("a", "1"), queued("a", "2"), sent("a", "1", "w1"), sent("a", "2", "w2"))
    result = audit(events, accepted(("w1", "1")))
    assert (result.ok, result.missing) == (False, 1)


def test_replies_accepted_out_of_order_are_caught_per_person() -> None:
    """One person's replies in another order than decided; another person's interleaving is fine."""
    events = log(
        queued("a", "1"), queued("b", "x"), queued("a", "2"),
        sent("a", "1", "w1"), sent("a", "2", "w2"), sent("b", "x", "wx"),
    )  # fmt: skip
    result = audit(events, accepted(("w2", "2"), ("wx", "x"), ("w1", "1")))
    assert (result.ok, result.out_of_order, result.delivered) == (False, 1, 3)


def test_a_reply_sent_to_review_fails_the_audit() -> None:
    """An OutboundFailed (the review queue) is a miss even when nothing else is wrong."""
    failed = OutboundFailed(outbound_id="2", code=1, title="down", retryable=True)
    events = log(queued("a", "1"), sent("a", "1", "w1"), ("a", failed))
    result = audit(events, accepted(("w1", "1")))
    assert (result.ok, result.failed) == (False, 1)
