"""Outages longer than the quick attempts: durable retries, in order, exactly once (real HTTP).

The fake Graph API answers 500 to everything for a while (a few seconds, with the retry
schedule scaled down to match) while replies keep being queued for several people.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from adapters.engine.dispatch import DispatchOptions
from adapters.engine.outbox import OutboxSender, is_outbox_input
from adapters.engine.send_retries import OutboxDispatcher
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.send_retry import RetrySchedule
from events.base import NewEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyKind, ReplyQueued
from events.send_retries import OutboundRetryDue, OutboundRetryScheduled
from events.whatsapp import MessageReceived

pytestmark = pytest.mark.integration
PEOPLE = [f"+3932812345{n:02d}" for n in range(5)]
FAST = RetrySchedule(first=0.1, cap=0.3, horizon=20.0)


def stream(phone: str) -> str:
    """The person's conversation stream."""
    return f"conversation-{phone}"


async def wrote(store: EventStore, phone: str) -> None:
    """The customer wrote just now (the 24-hour window is open)."""
    message = MessageReceived(
        wamid=f"wamid.IN{uuid.uuid4().hex}", wa_id=phone[1:], phone=phone, bsuid=None,
        kind="text", text="ciao", sent_at=datetime.now(UTC),
    )  # fmt: skip
    await store.append(
        stream(phone), Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=message)]
    )


async def queue(store: EventStore, phone: str, name: str) -> str:
    """Queue one reply that cannot merge with others (a template); returns its id."""
    oid = f"out-{uuid.uuid4().hex[:8]}"
    reply = ReplyQueued(outbound_id=oid, to=phone, kind=ReplyKind.TEMPLATE, text=name)
    await store.append(stream(phone), Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=reply)])
    return oid


def outbox(
    store: EventStore, messenger: GraphMessenger, schedule: RetrySchedule
) -> OutboxDispatcher:
    """A running outbox (dispatcher, sender and retry timer) with fast retries."""
    sender = OutboxSender(
        store, messenger, backoff_base=0.01, jitter=lambda: 0.0, pair_interval=0.0,
        retry_schedule=schedule,
    )  # fmt: skip
    sender.retries.tick = 0.05
    options = DispatchOptions(poll_interval=0.05)
    dispatcher = OutboxDispatcher(store, is_outbox_input, sender.handle, sender.retries, options)
    dispatcher.start()
    return dispatcher


async def payloads(store: EventStore, kind: type[object]) -> list[object]:
    """Every recorded ``kind`` in the people's streams."""
    found = []
    for phone in PEOPLE:
        found += [
            e.payload for e in await store.read_stream(stream(phone)) if isinstance(e.payload, kind)
        ]
    return found


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:  # noqa: ASYNC109 - a test deadline
    """Poll ``check`` (the log, written by other tasks) until it is true."""
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 - the log has no event to wait on here
            await asyncio.sleep(0.05)


async def test_replies_queued_during_an_outage_are_sent_once_each_in_order_afterwards(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Down ~2 s under load: afterwards each reply went out exactly once, per person in order."""
    fake, messenger = graph_client
    fake.outage(Behaviour.server_error())
    queued: dict[str, list[str]] = defaultdict(list)
    for phone in PEOPLE:
        await wrote(store, phone)
    dispatcher = outbox(store, messenger, FAST)
    try:
        for name in ("uno", "due", "tre"):
            for phone in PEOPLE:
                queued[phone].append(await queue(store, phone, name))
            await asyncio.sleep(0.6)
        fake.recover()
        await until(lambda: _all_sent(store, 15))
    finally:
        await dispatcher.stop()
    accepted = [(b["to"], b["biz_opaque_callback_data"]) for b in fake.accepted]
    assert sorted(oid for _, oid in accepted) == sorted(o for oids in queued.values() for o in oids)
    for phone in PEOPLE:
        assert [oid for to, oid in accepted if to.lstrip("+") == phone[1:]] == queued[phone]
    assert await payloads(store, OutboundRetryScheduled)
    assert not await payloads(store, OutboundFailed)


async def test_a_restart_keeps_the_retry_schedule(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Scheduled in one process, stopped, recovered: a new process sends it once."""
    fake, messenger = graph_client
    fake.outage(Behaviour.server_error())
    await wrote(store, PEOPLE[0])
    oid = await queue(store, PEOPLE[0], "uno")
    first = outbox(store, messenger, RetrySchedule(first=1.0, cap=1.0, horizon=20.0))
    try:
        await until(lambda: _has(store, OutboundRetryScheduled))
    finally:
        await first.stop()
    fake.recover()
    second = outbox(store, messenger, FAST)
    try:
        await until(lambda: _all_sent(store, 1))
    finally:
        await second.stop()
    assert [b["biz_opaque_callback_data"] for b in fake.accepted] == [oid]
    assert await payloads(store, OutboundRetryDue)


async def test_what_is_unsent_at_the_horizon_goes_to_review(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Still down after the horizon: recorded as a retryable failure, never sent."""
    fake, messenger = graph_client
    fake.outage(Behaviour.server_error())
    await wrote(store, PEOPLE[0])
    await queue(store, PEOPLE[0], "uno")
    dispatcher = outbox(store, messenger, RetrySchedule(first=0.1, cap=0.2, horizon=3.0))
    try:
        await until(lambda: _has(store, OutboundFailed))
    finally:
        await dispatcher.stop()
    [failed] = await payloads(store, OutboundFailed)
    assert isinstance(failed, OutboundFailed)
    assert failed.retryable
    assert len(await payloads(store, OutboundRetryScheduled)) >= 2
    assert fake.accepted == []


async def test_a_send_accepted_again_pulls_the_outage_retries_forward(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Retries minutes away go within seconds of Meta accepting another send, once, in
    order; a rate-limited retry keeps its time (ADR 0036)."""
    fake, messenger = graph_client
    anna, bruno, carla = PEOPLE[:3]
    for phone in (anna, bruno, carla):
        await wrote(store, phone)
    fake.outage(Behaviour.server_error())
    throttled = Behaviour.error(130429, http_status=429)
    fake.script_for(carla, *[throttled] * 4)  # Meta up, Carla's sends over the throughput
    minutes = RetrySchedule(first=600.0, cap=600.0, horizon=3600.0)  # due in 300 s
    dispatcher = outbox(store, messenger, minutes)
    try:
        first = await queue(store, anna, "uno")
        limited = await queue(store, carla, "uno")
        await until(lambda: _scheduled(store, 2))
        second = await queue(store, anna, "due")  # waits behind Anna's retry
        fake.recover()
        other = await queue(store, bruno, "uno")  # accepted: Meta is back
        await until(lambda: _all_sent(store, 3))
    finally:
        await dispatcher.stop()
    accepted = [b["biz_opaque_callback_data"] for b in fake.accepted]
    assert sorted(accepted) == sorted([first, second, other])
    assert [oid for oid in accepted if oid in (first, second)] == [first, second]
    assert limited not in accepted
    assert not await payloads(store, OutboundFailed)


async def _scheduled(store: EventStore, n: int) -> bool:
    return len(await payloads(store, OutboundRetryScheduled)) >= n


async def _all_sent(store: EventStore, n: int) -> bool:
    return len(await payloads(store, OutboundSent)) >= n


async def _has(store: EventStore, kind: type[object]) -> bool:
    return bool(await payloads(store, kind))
