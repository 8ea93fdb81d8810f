"""The audit's outbox check counts a reply waiting for a scheduled send retry as in flight."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.ops.audit import audit
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.conversation import ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted
from events.send_retries import OutboundRetryScheduled

pytestmark = pytest.mark.integration
PHONE = "+393281234567"
AUDIT_AFTER = timedelta(minutes=10)  # the audit runs ten minutes after the reply failed


async def waiting_reply(store: EventStore, due_in: timedelta) -> datetime:
    """A reply whose send failed and is scheduled again ``due_in`` from now; the audit time.

    Times are taken when the test runs, not at import: a long suite would otherwise put
    "now" past the audit time.
    """
    now = datetime.now(UTC)
    payloads = [
        ReplyQueued(outbound_id="out-1", to=PHONE, kind=ReplyKind.TEMPLATE, text="benvenuto"),
        OutboundAttempted(outbound_id="out-1", attempt=1),
        OutboundRetryScheduled(
            outbound_id="out-1", retry=1, due_at=now + due_in, first_failed_at=now, code=131000
        ),
    ]
    events = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in payloads]
    await store.append(f"conversation-{PHONE}", Expect.ANY, events)
    return now + AUDIT_AFTER


async def test_a_reply_waiting_for_a_retry_still_due_is_no_finding(store: EventStore) -> None:
    """Its retry falls after the audit's grace cut-off: in flight."""
    later = await waiting_reply(store, timedelta(minutes=9))
    report = await audit(store, now=later)
    assert [f for f in report.findings if f.check == "outbox"] == []


async def test_a_reply_whose_retry_is_long_overdue_is_a_finding(store: EventStore) -> None:
    """A retry due long before the audit that never ran: something is stuck, say so."""
    later = await waiting_reply(store, timedelta(minutes=1))
    report = await audit(store, now=later)
    assert [f.check for f in report.findings if f.check == "outbox"] == ["outbox"]
