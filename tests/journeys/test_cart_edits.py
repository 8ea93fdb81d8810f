"""Editing a cart in words, end to end: signed webhooks in, sandbox out, SQLite and PostgreSQL.

Each journey posts Meta-shaped text messages to ``/webhook`` with a valid signature, from
the customer's phone or a dealer's, and reads what the sandbox sent back and what the log
holds: edit -> confirm -> relay (the dealer sees the revised cart), the sold-out path,
and bad quantities or edits that leave the cart as it was.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.bootstrap import build
from adapters.engine.relay_timers import relay_stream
from adapters.engine.relay_writes import did
from adapters.meta.signature import sign
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.app import create_app
from events.cart import CartRevised
from events.conversation import CartCancelled, CartConfirmed, CartProposed
from events.orders import OrderCancelled
from tests.conftest import drop_pg_schema, make_pg_engines
from tests.e2e import conftest as e2e
from tests.journeys.conftest import DELIVERY, Journey, body, what_if_agrees

pytestmark = pytest.mark.e2e
CUSTOMER = "+393405551234"
GROCER = "+393471234567"  # Alimentari Da Mario (d-alimentari)
PHARMACY = "+393209876543"  # Farmacia Centrale (d-farmacia)
PET = "+39328185464"  # Toelettatura Pet (d-pet)
Client = TestClient[web.Request, web.Application]


class Shop(Journey):
    """A journey that talks to ``/webhook`` with signed bodies, as Meta does."""

    async def write(self, phone: str, text: str) -> None:
        """A text message from ``phone``, signed with the app secret."""
        digits = phone.lstrip("+")
        message = {
            "from": digits, "id": f"wamid.C{uuid.uuid4().hex}",
            "timestamp": str(int(time.time())), "type": "text", "text": {"body": text},
        }  # fmt: skip
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390000000000", "phone_number_id": "SIM"},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": digits}],
            "messages": [message],
        }
        entry = {"id": "W", "changes": [{"field": "messages", "value": value}]}
        raw = json.dumps({"object": "whatsapp_business_account", "entry": [entry]})
        signature = sign(raw.encode(), e2e.SECRET)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        resp = await self.client.post("/webhook", data=raw, headers=headers)
        assert resp.status == 200, await resp.text()

    async def turn(self, phone: str, text: str, *, contains: str = "") -> str:
        """Write ``text`` and wait for the next message to ``phone`` holding ``contains``."""
        before = len(self.sent(phone))
        await self.write(phone, text)
        return body(await self.next_to(phone, before, contains=contains))

    async def events(self, kind: type[Any]) -> list[Any]:
        """The customer's events of one type."""
        return [p for p in await self.stream(f"conversation-{CUSTOMER}") if isinstance(p, kind)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def shop(
    request: pytest.FixtureRequest, tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Shop]:
    """The service on each backend with the sandbox transport and no debounce."""
    settings = e2e.test_settings(tmp_path, debounce_seconds=0.0)
    schema = None
    if request.param == "sqlite":
        engines = create_engines(settings.database_url)
    else:
        engines, schema = await make_pg_engines()
    await migrate(engines)
    deps = build(settings, engines=engines)
    client = await aiohttp_client(create_app(deps))
    try:
        yield Shop(client, deps)
        await what_if_agrees(deps)  # the «esaurito» journeys replay without a difference
    finally:
        await client.close()
        if schema is not None:
            await drop_pg_schema(schema)


async def test_an_edited_cart_is_confirmed_and_the_dealer_gets_the_revised_one(shop: Shop) -> None:
    """Order, remove + add in one message, set a quantity, confirm: the dealer gets the last."""
    await shop.turn(GROCER, "aiuto")  # the dealer's 24-hour window is open
    first = await shop.turn(
        CUSTOMER, "Salve, mi servono due pagnotte e un latte", contains="Totale"
    )
    assert "€ 6,99" in first
    edited = await shop.turn(CUSTOMER, "anzi niente latte, e aggiungi le uova", contains="Totale")
    assert "Latte" not in edited
    assert "€ 7,50" in edited
    more = await shop.turn(CUSTOMER, "le uova mettile a 3", contains="Totale")
    assert "€ 12,10" in more
    done = await shop.turn(CUSTOMER, "sì va bene, procedi pure", contains="confermato")
    assert "operatore" not in done
    await shop.turn(CUSTOMER, DELIVERY, contains="Totale con consegna")
    relayed = await shop.next_to(GROCER, 0, contains="Nuovo ordine Dloop")
    assert "2 × Pane casereccio" in body(relayed)
    assert "3 × Uova" in body(relayed)
    assert "Latte" not in body(relayed)
    revised = await shop.events(CartRevised)
    assert len(revised) == 2
    proposed = await shop.events(CartProposed)
    [confirmed] = await shop.events(CartConfirmed)
    assert confirmed.cart_id == proposed[-1].cart_id == revised[-1].cart_id
    cancelled = {c.cart_id for c in await shop.events(CartCancelled)}
    assert cancelled == {p.cart_id for p in proposed[:-1]}

    async def old_relays_cancelled() -> bool:
        found = 0
        for cart_id in cancelled:
            stream = relay_stream(str(did(cart_id, "relay", 1)))
            history = await shop.deps.store.read_stream(stream)
            found += any(isinstance(e.payload, OrderCancelled) for e in history)
        return found == len(cancelled) == 2

    await shop.until(old_relays_cancelled)


async def test_a_sold_out_product_stays_out_and_is_rechecked_at_confirmation(shop: Shop) -> None:
    """After «esaurito» the product is refused with alternatives; a sell-out before «sì» is told."""
    ack = await shop.turn(PHARMACY, "esaurito termometro", contains="esaurito")
    assert "Termometro" in ack
    cart = await shop.turn(CUSTOMER, "vorrei un termometro e due cerotti", contains="Totale")
    assert "non è disponibile" in cart
    assert "€ 6,40" in cart
    await shop.turn(CUSTOMER, "aggiungi una vitamina c", contains="€ 13,80")
    await shop.turn(PHARMACY, "esaurito vitamina c", contains="esaurito")
    told = await shop.turn(CUSTOMER, "confermo", contains="Totale")
    assert "esaurito" in told
    assert "€ 6,40" in told
    assert not await shop.events(CartConfirmed)
    await shop.turn(CUSTOMER, "ok", contains="confermato")
    await shop.turn(CUSTOMER, DELIVERY, contains="Totale con consegna")
    relayed = await shop.next_to(PHARMACY, 2, contains="Nuovo ordine Dloop")
    assert "Vitamina" not in body(relayed)
    assert "Termometro" not in body(relayed)


async def test_bad_quantities_and_edits_without_a_cart_leave_everything_as_it_was(
    shop: Shop,
) -> None:
    """No cart + «togli»: told so; 10,000 or 0: told the limit; the open cart never changes."""
    none = await shop.turn(CUSTOMER, "togli il latte")
    assert "Non hai un carrello aperto" in none
    assert not await shop.events(CartProposed)
    await shop.turn(CUSTOMER, "vorrei 2 mascherine ffp2", contains="Totale")
    big = await shop.turn(CUSTOMER, "fanne 10000", contains="massimo 99 per prodotto")
    assert "€ 12,00" in big
    zero = await shop.turn(CUSTOMER, "metti 0 mascherine", contains="almeno 1")
    assert "€ 12,00" in zero
    assert len(await shop.events(CartProposed)) == 1
    assert not await shop.events(CartRevised)


async def test_a_whatsapp_catalog_cart_leaves_sold_out_products_out(shop: Shop) -> None:
    """A catalog ``order`` with a product the dealer marked «esaurito»: told, left out."""
    await shop.turn(PET, "esaurito lettiera", contains="esaurito")
    before = len(shop.sent(CUSTOMER))
    items = [
        {"product_retailer_id": "p-lettiera", "quantity": 1, "item_price": 9.90, "currency": "EUR"},
        {
            "product_retailer_id": "p-guinzaglio",
            "quantity": 1,
            "item_price": 11.0,
            "currency": "EUR",
        },
    ]
    await shop.order(CUSTOMER, items)
    cart = body(await shop.next_to(CUSTOMER, before, contains="Ecco il tuo carrello"))
    assert "«Lettiera agglomerante 10 L» al momento non è disponibile" in cart
    assert "Totale: € 11,00" in cart
    [proposed] = await shop.events(CartProposed)
    assert [x.product_id for x in proposed.lines] == ["p-guinzaglio"]
