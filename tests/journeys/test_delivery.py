"""Delivery confirmation: the market's signed callback says «delivered», the customer is told.

Signed webhooks in (Meta's and the market's), the fake Graph API, the fake market API
over real HTTP (it posts the callback), and the fake FCM for the customer's own device.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.fakes.market_api import FakeMarketApi
from adapters.meta.signature import sign
from events.market import MarketOrderStatusReceived
from events.notify import PushRecordedOnly, PushRequested
from events.orders import OrderDelivered
from tests.journeys.conftest import (
    CUSTOMER,
    DELIVERY,
    PET,
    FcmSetup,
    GraphJourney,
    body,
    until,
)

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[GraphJourney]]
SECRET = "market-callback-secret"
CUSTOMER_TOKEN = "customer-phone-token:anna_01"


async def accepted_order(j: GraphJourney, market: FakeMarketApi) -> tuple[str, str]:
    """A one-line order confirmed, sent to the market and accepted; (relay id, market id)."""
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "Vorrei una lettiera")
    await j.next_to(CUSTOMER, 0, contains="Ecco il tuo carrello")
    await j.pick(CUSTOMER, "button_reply", "cart:confirm", "Confermo")
    await j.next_to(CUSTOMER, 1, contains="indirizzo")
    await j.say(CUSTOMER, DELIVERY)
    relayed = await j.next_to(PET, 1, contains="Nuovo ordine")
    accept = relayed["interactive"]["action"]["buttons"][0]["reply"]
    await j.pick(PET, "button_reply", accept["id"], accept["title"])
    await j.next_to(CUSTOMER, 1, contains="ha accettato")
    [order] = market.orders.values()
    return accept["id"].removeprefix("order:accept:"), str(order["id"])


def callback_url(j: GraphJourney) -> str:
    """Our market webhook as the market reaches it."""
    return str(j.client.make_url("/market/webhook"))


async def test_delivered_order_is_confirmed_to_the_customer_by_whatsapp_and_push(
    graph_journey: Start, market_api: FakeMarketApi, fcm: FcmSetup
) -> None:
    """The market reports delivery: OrderDelivered, a WhatsApp notice, a push to her phone."""
    j = await graph_journey(
        market_api_url=market_api.base_url,
        market_webhook_secret=SECRET,
        fcm_project_id="dloop-test",
        fcm_credentials_file=fcm.credentials,
        fcm_api_base=fcm.fake.base_url,
    )
    _, secret = await TokenStore(j.deps.engines).create(Role.SUPPORT, label="marta")
    device = {"owner_kind": "customer", "owner_id": CUSTOMER, "token": CUSTOMER_TOKEN}
    resp = await j.client.post(
        "/api/devices", json=device, headers={"Authorization": f"Bearer {secret}"}
    )
    assert resp.status == 201, await resp.text()
    relay_id, order_id = await accepted_order(j, market_api)

    status, answer = await market_api.report(order_id, "delivered", callback_url(j), SECRET)
    assert (status, answer["duplicate"]) == (200, False)
    told = await j.next_to(CUSTOMER, 2, contains="è stato consegnato")
    assert "n. 1" in body(told)

    async def pushed() -> bool:
        return any(m["token"] == CUSTOMER_TOKEN for m in fcm.fake.sent)

    await until(pushed)
    [push] = [m for m in fcm.fake.sent if m["token"] == CUSTOMER_TOKEN]
    assert push["notification"]["title"] == "Ordine consegnato"
    assert push["data"]["relay_id"] == relay_id
    relay = await j.stream(f"order-{relay_id}")
    assert [type(p) for p in relay if isinstance(p, OrderDelivered)] == [OrderDelivered]

    # The market retries its callback: recorded once, told once.
    status, answer = await market_api.report(order_id, "delivered", callback_url(j), SECRET)
    assert (status, answer["duplicate"]) == (200, True)
    await asyncio.sleep(0.3)
    assert len([m for m in j.sent(CUSTOMER) if "consegnato" in body(m)]) == 1


async def test_without_a_customer_device_or_fcm_the_push_is_recorded_only(
    graph_journey: Start, market_api: FakeMarketApi
) -> None:
    """No FCM credentials: the WhatsApp notice goes out, the push is recorded only."""
    j = await graph_journey(market_api_url=market_api.base_url, market_webhook_secret=SECRET)
    relay_id, order_id = await accepted_order(j, market_api)
    await market_api.report(order_id, "delivered", callback_url(j), SECRET)
    await j.next_to(CUSTOMER, 2, contains="è stato consegnato")

    async def recorded() -> bool:
        return any(isinstance(p, PushRecordedOnly) for p in await j.stream(f"order-{relay_id}"))

    await until(recorded)
    relay = await j.stream(f"order-{relay_id}")
    pushes = [p for p in relay if isinstance(p, PushRequested) and p.reason == "delivered"]
    person = await j.deps.store.people.find(CUSTOMER)  # the owner is her person id
    assert [(p.audience, p.owner) for p in pushes] == [("customer", person)]


async def test_other_statuses_are_recorded_but_tell_nobody(
    graph_journey: Start, market_api: FakeMarketApi
) -> None:
    """«in_delivery» is a recorded fact; no notice, no delivered stage."""
    j = await graph_journey(market_api_url=market_api.base_url, market_webhook_secret=SECRET)
    relay_id, order_id = await accepted_order(j, market_api)
    status, _ = await market_api.report(order_id, "in_delivery", callback_url(j), SECRET)
    assert status == 200
    await asyncio.sleep(0.3)
    relay = await j.stream(f"order-{relay_id}")
    assert [p.status for p in relay if isinstance(p, MarketOrderStatusReceived)] == ["in_delivery"]
    assert not [p for p in relay if isinstance(p, OrderDelivered)]
    assert not [m for m in j.sent(CUSTOMER) if "consegnato" in body(m)]


async def test_unsigned_forged_or_unknown_callbacks_are_refused_and_not_recorded(
    graph_journey: Start, market_api: FakeMarketApi
) -> None:
    """401 unsigned, 403 wrong key, 404 unknown relay, 409 wrong order id, 422 bad body."""
    j = await graph_journey(market_api_url=market_api.base_url, market_webhook_secret=SECRET)
    relay_id, order_id = await accepted_order(j, market_api)
    url = callback_url(j)
    assert (await market_api.report(order_id, "delivered", url, None))[0] == 401
    assert (await market_api.report(order_id, "delivered", url, "wrong-secret"))[0] == 403
    market_api.orders["forged"] = {"id": "DL-9999", "external_id": "no-such-relay"}
    assert (await market_api.report("DL-9999", "delivered", url, SECRET))[0] == 404
    market_api.orders["wrong"] = {"id": "DL-8888", "external_id": relay_id}
    assert (await market_api.report("DL-8888", "delivered", url, SECRET))[0] == 409
    bad = await post_signed(j, {"external_id": relay_id, "order_id": order_id, "status": "?!"})
    assert bad == 422
    relay = await j.stream(f"order-{relay_id}")
    assert not [p for p in relay if isinstance(p, MarketOrderStatusReceived | OrderDelivered)]


async def post_signed(j: GraphJourney, document: dict[str, Any]) -> int:
    """POST a correctly signed body to /market/webhook; the status."""
    raw = json.dumps(document).encode()
    headers = {"X-Dloop-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"}
    resp = await j.client.post("/market/webhook", data=raw, headers=headers)
    return resp.status


async def test_market_webhook_without_a_secret_is_unavailable(graph_journey: Start) -> None:
    """No MARKET_WEBHOOK_SECRET: 503, so a market never believes an unverified call landed."""
    j = await graph_journey()
    resp = await j.client.post("/market/webhook", json={"status": "delivered"})
    assert resp.status == 503
