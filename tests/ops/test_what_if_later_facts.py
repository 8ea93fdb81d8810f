"""What-if agrees with a reactor that appended its turn after a message meant for the next."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.ops.whatif import what_if
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.rate_limit import LIMIT
from events.base import NewEvent
from events.engine import TurnProcessed
from events.whatsapp import MessageReceived
from tests.integration.test_conversation_memory import PHONE, Meanwhile, reactor

pytestmark = pytest.mark.integration
AT = datetime.now(UTC).replace(microsecond=0)  # Meta's timestamps: whole seconds


async def write(store: EventStore, stream: str, n: int) -> None:
    """The customer's ``n``-th message, all sent in the same second."""
    message = MessageReceived(
        wamid=f"wamid.W{n}.{uuid.uuid4().hex[:6]}", wa_id=PHONE[1:], phone=PHONE, bsuid=None,
        kind="text", text=f"messaggio {n}", sent_at=AT,
    )  # fmt: skip
    await store.append(stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=message)])


async def test_a_turn_appended_after_a_later_message_replays_without_differences(
    store: EventStore,
) -> None:
    """The turn at the rate limit decided without the 11th message; what-if leaves it out too.

    Counted in, the 11th message would put the first turn over the limit of 10 a minute,
    so a what-if that folded everything before the decisions would report a difference.
    """
    stream = await store.people.stream_of(f"conversation-{PHONE}")
    for n in range(LIMIT):
        await write(store, stream, n)
    bot = reactor(store, Meanwhile(lambda: write(store, stream, LIMIT)))
    await bot.handle(stream, [])
    await bot.handle(stream, [])
    history = await store.read_stream(stream)
    first = next(e.payload for e in history if isinstance(e.payload, TurnProcessed))
    assert len(first.fact_ids) == LIMIT  # the 11th was left for the second turn
    report = await what_if(store, OfflineAssistant(), load_catalog(None))
    assert report.turns == 2
    assert report.differences == []
