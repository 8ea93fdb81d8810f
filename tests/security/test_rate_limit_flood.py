"""A flood from one number is capped and does not hold up anyone else.

200 signed messages from one phone as fast as HTTP allows; halfway through, five other
customers write once each. Asserted on counts and on the log's own order (global
positions), never on wall-clock time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from core.rate_limit import LIMIT
from events.conversation import RateLimited, ReplyQueued
from events.whatsapp import MessageReceived
from tests.engine.support import accepted_by_id, covered, messages, wait_until
from tests.faults.conftest import Wired, send_text

pytestmark = pytest.mark.e2e
Wire = Callable[..., Awaitable[Wired]]
FLOOD = "393409990000"
OTHERS = [f"3934099900{n:02d}" for n in range(1, 6)]
FLOOD_SIZE = 200


async def _flood(wired: Wired, halfway: asyncio.Event) -> list[int]:
    statuses = []
    for n in range(FLOOD_SIZE):
        statuses.append((await send_text(wired.client, FLOOD, f"messaggio {n}"))[0])
        if n == FLOOD_SIZE // 2:
            halfway.set()
    return statuses


async def test_flood_from_one_number_is_capped_and_others_are_answered_meanwhile(
    wire: Wire,
) -> None:
    """Every message is recorded; the flood gets at most LIMIT answers plus one notice;
    each other customer is answered once, before the flood has even finished arriving."""
    wired = await wire()
    halfway = asyncio.Event()
    flood = asyncio.create_task(_flood(wired, halfway))
    await halfway.wait()
    for phone in OTHERS:
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200
    assert set(await flood) == {200}, "the flood is recorded, never refused"

    async def settled() -> bool:
        for phone in [FLOOD, *OTHERS]:
            history = await wired.history(phone)
            if set(messages(history)) - set(covered(history)):
                return False
        return await wired.settled(OTHERS)

    await wait_until(settled, 60)
    flood_history = await wired.history(FLOOD)
    arrivals = [e.position for e in flood_history if isinstance(e.payload, MessageReceived)]
    assert len(arrivals) == FLOOD_SIZE
    flood_replies = [e for e in flood_history if isinstance(e.payload, ReplyQueued)]
    assert len(flood_replies) <= LIMIT + 1, "at most the limit, plus one polite notice"
    assert any(isinstance(e.payload, RateLimited) for e in flood_history)
    parked = await wired.deps.store.read_stream("parked-conversation")
    assert parked == [], "the flood's turns were handled, not parked"
    sent = accepted_by_id(wired.graph)
    for phone in OTHERS:
        history = await wired.history(phone)
        [reply] = [e for e in history if isinstance(e.payload, ReplyQueued)]
        assert sent[reply.payload.outbound_id] == 1
        assert not any(isinstance(e.payload, RateLimited) for e in history)
        assert reply.position < arrivals[-1], f"{phone} waited for the flood to end"
