"""Checkout journeys through ``/simulate`` (signed like Meta's webhooks), on SQLite and PostgreSQL.

Edit -> confirm -> address, time, payment asked for -> relay with the delivery fee -> dealer
accepts -> dealer "pronto N" -> market ``picked_up`` -> ``delivered``, and the customer
hears about each step. Bad input (a location without coordinates, a 5,000-character
address) gets an Italian answer and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters.fakes.market_api import FakeMarketApi
from events.checkout import CheckoutCompleted, CheckoutDetailsGiven, CheckoutStarted
from events.delivery import DeliveryScheduled, OrderPickedUp, OrderReady
from events.orders import OrderConfirmed
from tests.engine.conftest import pg_database
from tests.journeys.conftest import CUSTOMER, PET, Journey, body

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]
SECRET = "market-callback-secret"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """Settings overrides: the default SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    async for url in pg_database():
        yield {"database_url": url}


async def _relay_stream(j: Journey) -> list[Any]:
    stream = await j.stream(f"conversation-{CUSTOMER}")
    [started] = [p for p in stream if isinstance(p, CheckoutStarted)]
    names = await j.deps.store.read_all(0, 10_000)
    relay = next(
        e.stream
        for e in names
        if e.stream.startswith("order-") and getattr(e.payload, "cart_id", None) == started.cart_id
    )
    return await j.stream(relay)


async def test_edit_confirm_checkout_relay_accept_ready_picked_up_delivered(
    backend: dict[str, Any], journey_factory: Start, market_api: FakeMarketApi
) -> None:
    """The whole order life from an edited cart: details asked, fee added, every step told."""
    j = await journey_factory(
        market_api_url=market_api.base_url, market_webhook_secret=SECRET, **backend
    )
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "Vorrei una lettiera e un guinzaglio")
    edited = await j.say(CUSTOMER, "togli il guinzaglio")
    assert any("€ 9,90" in body(r) and "Guinzaglio" not in body(r) for r in edited)
    await j.say(CUSTOMER, "Confermo", wait=0)
    await j.next_to(CUSTOMER, 2, contains="indirizzo di consegna")
    assert market_api.orders == {}  # nothing relayed before the checkout completes
    assert not [p for p in await _relay_stream(j) if isinstance(p, OrderConfirmed)]

    await j.say(CUSTOMER, "lunedì alle 10", wait=0)
    asked = await j.next_to(CUSTOMER, 3, contains="Mi manca ancora")
    assert "indirizzo" in body(asked)
    assert "contanti o carta" in body(asked)
    await j.say(CUSTOMER, "via Torino 15, Milano, pago in contanti", wait=0)
    recap = await j.next_to(CUSTOMER, 4, contains="Totale con consegna")
    assert "12,80" in body(recap)  # 9,90 lettiera + 2,90 consegna

    relayed = await j.next_to(PET, 1, contains="Nuovo ordine")
    for part in ("Indirizzo: via Torino 15, Milano", "contanti", "Totale con consegna: € 12,80"):
        assert part in body(relayed)
    assert "Guinzaglio" not in body(relayed)
    [order] = market_api.orders.values()
    delivery = order["delivery"]
    assert (delivery["address"], delivery["payment"], delivery["fee"]) == (
        "via Torino 15, Milano",
        "contanti",
        "2.90",
    )
    told = await j.next_to(CUSTOMER, 5, contains="inviato al negozio")
    assert "12,80" in body(told)

    await j.say(PET, "accetto", wait=0)
    await j.next_to(CUSTOMER, 6, contains="ha accettato")
    status = await j.say(CUSTOMER, "a che punto è il mio ordine?")
    assert any("accettato dal negozio" in body(r) for r in status)

    await j.say(PET, "pronto 1", wait=0)
    await j.next_to(PET, 3, contains="segnato come pronto")
    await j.next_to(CUSTOMER, 7, contains="è pronto")
    callback = str(j.client.make_url("/market/webhook"))
    assert (await market_api.report(order["id"], "picked_up", callback, SECRET))[0] == 200
    await j.next_to(CUSTOMER, 8, contains="in consegna")
    assert (await market_api.report(order["id"], "delivered", callback, SECRET))[0] == 200
    await j.next_to(CUSTOMER, 9, contains="è stato consegnato")

    relay = await _relay_stream(j)
    kinds = [type(p) for p in relay]
    assert kinds.index(DeliveryScheduled) > kinds.index(OrderConfirmed)
    assert OrderReady in kinds
    assert OrderPickedUp in kinds
    [scheduled] = [p for p in relay if isinstance(p, DeliveryScheduled)]
    assert (str(scheduled.fee), str(scheduled.total)) == ("2.90", "12.80")


async def test_a_returning_customer_is_offered_the_last_address(journey_factory: Start) -> None:
    """Second order: "Consegno in via … come l'ultima volta?"; "sì" keeps it."""
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei una lettiera")
    await j.confirm(CUSTOMER, "via Torino 15, Milano, lunedì alle 10, contanti")
    await j.next_to(CUSTOMER, 0, contains="Totale con consegna")
    before = len(j.sent(CUSTOMER))
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane")
    await j.say(CUSTOMER, "Confermo", wait=0)
    offer = await j.next_to(CUSTOMER, before, contains="come l'ultima volta")
    assert "Consegno in via Torino 15, Milano come l'ultima volta?" in body(offer)
    await j.say(CUSTOMER, "sì, lunedì alle 11, con carta", wait=0)
    recap = await j.next_to(CUSTOMER, before, contains="Totale con consegna")
    assert "via Torino 15, Milano" in body(recap)
    assert "40,70" in body(recap)


async def test_an_address_outside_the_zones_is_refused_politely(journey_factory: Start) -> None:
    """An address in another town is refused, nothing recorded for it; the checkout stays."""
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei una lettiera")
    await j.say(CUSTOMER, "Confermo", wait=0)
    await j.next_to(CUSTOMER, 1, contains="indirizzo di consegna")
    replies = await j.say(CUSTOMER, "via Roma 3, Monza")
    assert any("non consegniamo" in body(r) and "Milano centro" in body(r) for r in replies)
    stream = await j.stream(f"conversation-{CUSTOMER}")
    assert not any(isinstance(p, CheckoutDetailsGiven) and p.address for p in stream)


async def test_bad_input_gets_an_italian_answer_and_changes_nothing(journey_factory: Start) -> None:
    """A location without coordinates and over-long addresses: answered, no checkout event.

    WhatsApp caps a text at 4,096 characters, so a 5,000-character address is refused at
    the door (422 naming the field, nothing recorded) and the longest deliverable one gets
    the Italian answer.
    """
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei una lettiera")
    await j.say(CUSTOMER, "Confermo", wait=0)
    await j.next_to(CUSTOMER, 1, contains="indirizzo di consegna")
    before = await j.stream(f"conversation-{CUSTOMER}")
    await j.post(CUSTOMER, {"type": "location", "location": {"name": "Casa"}})
    await j.next_to(CUSTOMER, 2, contains="Non riesco a leggere la posizione")
    mid = await j.stream(f"conversation-{CUSTOMER}")
    refused = await j.client.post(
        "/simulate", json={"from": CUSTOMER, "text": "via " + "lunghissima " * 450 + "12, Milano"}
    )
    assert refused.status == 422
    assert (await refused.json())["field"] == "text"
    assert await j.stream(f"conversation-{CUSTOMER}") == mid
    replies = await j.say(CUSTOMER, "via " + "lunghissima " * 338 + "12, Milano")
    assert any("troppo lungo" in body(r) for r in replies)
    after = await j.stream(f"conversation-{CUSTOMER}")
    checkout_events = (CheckoutDetailsGiven, CheckoutCompleted)
    assert [p for p in after if isinstance(p, checkout_events)] == [
        p for p in before if isinstance(p, checkout_events)
    ]
    await j.post(
        CUSTOMER,
        {"type": "location", "location": {"latitude": 45.4642, "longitude": 9.19, "name": "Casa"}},
    )
    await j.next_to(CUSTOMER, 4, contains="posizione 45.4642, 9.19")
