"""The thin path end to end: a signed message in, the bot's reply out through the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from adapters.bootstrap import Deps
from adapters.readmodel.tables import whatsapp_messages
from tests.conftest import person_stream
from tests.e2e.conftest import Client

pytestmark = pytest.mark.e2e
Make = Callable[..., Awaitable[tuple[Client, Deps]]]
PHONE = "+393281234567"


async def say(client: Client, text: str, wait: float = 5) -> list[dict[str, Any]]:
    """Send ``text`` as the customer and return the replies sent back within ``wait`` s."""
    resp = await client.post(f"/simulate?wait={wait}", json={"from": PHONE, "text": text})
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    replies: list[dict[str, Any]] = answer["replies"]
    return replies


async def test_order_gets_a_priced_cart_with_buttons_then_confirmation(make_service: Make) -> None:
    """Free-text order -> cart with total and Confermo/Modifica/Annulla; Confermo confirms."""
    client, deps = await make_service(debounce_seconds=0.0)
    [cart] = await say(client, "Ciao, vorrei 2 crocchette per cane e una lettiera")
    assert cart["type"] == "interactive"
    body = cart["interactive"]["body"]["text"]
    assert "47,70" in body  # 2 x 18,90 + 9,90, computed by our code
    titles = [b["reply"]["title"] for b in cart["interactive"]["action"]["buttons"]]
    assert titles == ["Confermo", "Modifica", "Annulla"]
    confirmed = await say(client, "Confermo")
    assert confirmed, "the confirmation is answered"
    assert all(r["type"] == "text" for r in confirmed)
    types = [e.type for e in await deps.store.read_stream(person_stream(PHONE))]
    assert "conversation.cart_confirmed" in types
    assert types.count("conversation.outbound_sent") >= 2


async def test_support_request_escalates_and_the_bot_then_stays_silent(make_service: Make) -> None:
    """After an escalation a person is promised; later messages get no bot reply."""
    client, deps = await make_service(debounce_seconds=0.0)
    [told] = await say(client, "Il mio ordine non è mai arrivato, voglio un rimborso")
    assert "operator" in told["text"]["body"].lower() or "persona" in told["text"]["body"].lower()
    assert await say(client, "Ci siete?", wait=1) == []
    types = [e.type for e in await deps.store.read_stream(person_stream(PHONE))]
    assert "conversation.escalated" in types


async def test_outbound_rows_reach_the_messages_table(make_service: Make) -> None:
    """The reply appears in whatsapp_messages as an outbound row marked sent."""
    client, deps = await make_service(debounce_seconds=0.0)
    await say(client, "Buongiorno!")
    for _ in range(50):
        async with deps.engines.reader.connect() as conn:
            rows = (await conn.execute(select(whatsapp_messages))).mappings().all()
        if any(r["direction"] == "outbound" and r["status"] == "sent" for r in rows):
            break
        await asyncio.sleep(0.05)
    assert {(r["direction"], r["status"]) for r in rows} >= {
        ("inbound", "received"),
        ("outbound", "sent"),
    }
