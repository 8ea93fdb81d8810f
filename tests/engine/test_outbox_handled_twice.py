"""A queued reply handled twice (stale kept state, or delivered twice) is sent once.

Issue 15 item 2: with ``SERVE_SPLIT=1`` a load test saw replies sent twice to the fake
Graph API while their stream held one attempt and one ``outbound_sent``: a second handling
decided the send again and its records were duplicates. The attempt record is the
guard: a handling whose attempt is already stored never calls Meta.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from adapters.engine.outbox import OutboxSender
from adapters.fakes.graph_api import FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.store.event_store import EventStore
from adapters.store.migrations import APPEND_LOCK_KEY
from adapters.store.types import Expect
from events.base import NewEvent, RecordedEvent
from events.conversation import OutboundSent, ReplyButton, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived
from tests.engine.support import wait_until

pytestmark = pytest.mark.integration
PHONE = "+393281234567"
STREAM = f"conversation-{PHONE}"


async def queued_reply(store: EventStore) -> list[RecordedEvent]:
    """A customer's message and a buttons reply to it (never merged), as stored."""
    inbound = MessageReceived(
        wamid="wamid.IN1", wa_id=PHONE[1:], phone=PHONE, bsuid=None, kind="text",
        text="ciao", sent_at=datetime.now(UTC),
    )  # fmt: skip
    reply = ReplyQueued(
        outbound_id="o1", to=PHONE, kind=ReplyKind.BUTTONS, text="Confermi?",
        buttons=(ReplyButton(id="si", title="Sì"),),
    )  # fmt: skip
    new = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in (inbound, reply)]
    await store.append(STREAM, Expect.ANY, new)
    return await store.read_stream(STREAM)


@contextlib.asynccontextmanager
async def appends_held(store: EventStore) -> AsyncIterator[None]:
    """Hold the store's appends back (the SQLite writer, PostgreSQL's append lock)."""
    if store.dialect == "sqlite":
        async with store.transaction():
            yield
        return
    async with store.engines.writer.begin() as conn:
        await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")
        yield


async def test_two_handlings_racing_on_one_reply_send_it_once(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Two senders (each with its own kept state) handle the same reply at once: one request
    to the Graph API, one attempt and one outcome in the stream."""
    fake, messenger = graph_client
    batch = await queued_reply(store)
    first, second = OutboxSender(store, messenger), OutboxSender(store, messenger)
    with capture_logs() as logs:
        async with appends_held(store):  # both load and decide before either records
            both = asyncio.gather(first.handle(STREAM, batch), second.handle(STREAM, batch))

            async def loaded() -> bool:
                return first.index.misses + second.index.misses == 2

            await wait_until(loaded, 10)
            await asyncio.sleep(0.3)  # both reach their attempt's append, which waits
        await both
    assert [b["biz_opaque_callback_data"] for b in fake.accepted] == ["o1"]
    found = [e.payload for e in await store.read_stream(STREAM)]
    assert [type(p) for p in found if isinstance(p, OutboundAttempted | OutboundSent)] == [
        OutboundAttempted,
        OutboundSent,
    ]
    assert [e["event"] for e in logs if e["event"] == "outbox.attempt_already_recorded"] == [
        "outbox.attempt_already_recorded"
    ]


async def test_a_reply_delivered_twice_in_one_batch_is_sent_once(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """The same stored events given twice in one batch: one request to the Graph API."""
    fake, messenger = graph_client
    batch = await queued_reply(store)
    await OutboxSender(store, messenger).handle(STREAM, [*batch, *batch])
    assert [b["biz_opaque_callback_data"] for b in fake.accepted] == ["o1"]
    assert any(isinstance(e.payload, OutboundSent) for e in await store.read_stream(STREAM))
