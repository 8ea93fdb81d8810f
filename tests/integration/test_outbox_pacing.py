"""The outbox paces replies to one person and answers 131056 by waiting (real HTTP)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.engine.dispatch import StreamDispatcher
from adapters.engine.outbox import OutboxSender, is_reply_queued
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.send_retry import RetrySchedule
from events.base import NewEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived

pytestmark = pytest.mark.integration
PHONE = "+393281234567"
STREAM = f"conversation-{PHONE}"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def wrote_and_queued(store: EventStore, texts: list[str], kind: ReplyKind) -> None:
    """The customer wrote; replies of ``kind`` are queued for them."""
    message = MessageReceived(
        wamid=f"wamid.IN{uuid.uuid4().hex}", wa_id=PHONE[1:], phone=PHONE, bsuid=None,
        kind="text", text="ciao", sent_at=NOW,
    )  # fmt: skip
    replies = [
        ReplyQueued(outbound_id=f"out-{uuid.uuid4().hex[:8]}", to=PHONE, kind=kind, text=t)
        for t in texts
    ]
    events = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in (message, *replies)]
    await store.append(STREAM, Expect.ANY, events)


async def run(store: EventStore, messenger: GraphMessenger, **options: float) -> None:
    """Dispatch the outbox until idle, with a short pair interval."""
    sender = OutboxSender(
        store, messenger, backoff_base=0.01, clock=lambda: NOW, jitter=lambda: 0.0,
        pair_interval=options.get("interval", 0.05), pair_burst=int(options.get("burst", 3)),
        retry_schedule=RetrySchedule(horizon=options.get("horizon", 0.0)),
    )  # fmt: skip
    await StreamDispatcher(store, "outbox", is_reply_queued, sender.handle).run_until_idle()


async def test_131056_is_answered_by_waiting_and_the_message_goes_out_once(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Pair rate limit twice, then accepted: one OutboundSent, no failure, three attempts."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(131056), Behaviour.error(131056), Behaviour.ok())
    await wrote_and_queued(store, ["Ciao!"], ReplyKind.TEXT)
    await run(store, messenger)
    history = [e.payload for e in await store.read_stream(STREAM)]
    assert len(fake.accepted) == 1
    assert sum(isinstance(p, OutboundSent) for p in history) == 1
    assert not any(isinstance(p, OutboundFailed) for p in history)
    assert sum(isinstance(p, OutboundAttempted) for p in history) == 3


async def test_131056_without_end_fails_after_the_bounded_waits(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A recipient Meta keeps refusing is not waited for forever: with no durable retries
    left (horizon 0) it is recorded failed, retryable, for the review queue."""
    fake, messenger = graph_client
    fake.script(*[Behaviour.error(131056)] * 20)
    await wrote_and_queued(store, ["Ciao!"], ReplyKind.TEXT)
    await run(store, messenger, interval=0.01)
    [failed] = [
        e.payload for e in await store.read_stream(STREAM) if isinstance(e.payload, OutboundFailed)
    ]
    assert (failed.code, failed.retryable) == (131056, True)


async def test_a_burst_of_texts_to_one_person_goes_out_as_one_message(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Five texts queued together: one merged send; every reply has its outcome."""
    fake, messenger = graph_client
    await wrote_and_queued(store, [f"riga {n}" for n in range(5)], ReplyKind.TEXT)
    await run(store, messenger, burst=1)
    history = [e.payload for e in await store.read_stream(STREAM)]
    assert len(fake.accepted) == 1
    assert "riga 0" in fake.accepted[0]["text"]["body"]
    assert "riga 4" in fake.accepted[0]["text"]["body"]
    assert sum(isinstance(p, OutboundSent) for p in history) == 5


async def test_messages_that_cannot_merge_wait_for_the_pair_rate_in_order(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Templates one after the other with a burst of 1: all sent, in queue order."""
    fake, messenger = graph_client
    await wrote_and_queued(store, ["uno", "due", "tre"], ReplyKind.TEMPLATE)
    await run(store, messenger, burst=1)
    names = [body["template"]["name"] for body in fake.accepted]
    assert names == ["uno", "due", "tre"]
