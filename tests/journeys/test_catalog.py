"""WhatsApp catalog carts, and catalogue / contact imports from the command line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.engine.order_runtime import OrderRelayDispatcher
from adapters.readmodel.tables import rider_contacts
from events.market import CatalogOrderChecked, CatalogProductUpserted, ContactUpserted
from scripts import cli
from tests.conftest import person_stream
from tests.journeys.conftest import CUSTOMER, Journey, body, buttons

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def test_a_catalog_order_becomes_a_cart_and_problems_are_reported(
    journey_factory: Start,
) -> None:
    """Known ids make the cart; an unknown id and a wrong price are told, not accepted."""
    j = await journey_factory()
    await j.order(
        CUSTOMER,
        [
            {
                "product_retailer_id": "p-crocc-cane",
                "quantity": 2,
                "item_price": 18.90,
                "currency": "EUR",
            },
            {
                "product_retailer_id": "p-lettiera",
                "quantity": 1,
                "item_price": 7.50,
                "currency": "EUR",
            },
            {
                "product_retailer_id": "SKU-NON-ESISTE",
                "quantity": 1,
                "item_price": 3,
                "currency": "EUR",
            },
        ],
    )
    cart = await j.next_to(CUSTOMER, 0, contains="Ecco il tuo carrello")
    text = body(cart)
    assert "SKU-NON-ESISTE" in text
    assert (
        "«Lettiera agglomerante 10 L» non corrisponde: € 7,50 nel carrello, € 9,90 da noi" in text
    )
    assert "2 × Crocchette per cane adulto 3 kg: € 37,80" in text
    assert "Totale: € 37,80" in text
    assert [t for _, t in buttons(cart)] == ["Confermo", "Modifica", "Annulla"]
    assert len(j.sent(CUSTOMER)) == 1  # the conversation rules stay silent on catalog carts
    [checked] = [
        p for p in await j.stream(person_stream(CUSTOMER)) if isinstance(p, CatalogOrderChecked)
    ]
    assert checked.unknown == ("SKU-NON-ESISTE",)
    assert checked.cart_id is not None
    await j.confirm(CUSTOMER)
    await j.next_to(CUSTOMER, 1, contains="ordine n. 1")


async def run_cli(j: Journey, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """``dloop-bot ARGS`` against the running service's database."""
    monkeypatch.setenv("DATABASE_URL", j.deps.settings.database_url)
    return await asyncio.to_thread(cli.main, list(args))


async def test_catalog_import_is_idempotent_reports_bad_rows_and_reaches_customers(
    journey_factory: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Valid rows recorded once, bad rows named; the new product is offered to customers."""
    j = await journey_factory()
    good = {
        "id": "p-cuccia",
        "dealer_id": "d-pet",
        "name": "Cuccia imbottita per cane",
        "price": 34.5,
        "stock": 4,
        "tags": ["cuccia"],
    }
    document = {
        "products": [
            good,
            {
                "id": "p-rotto",
                "dealer_id": "d-pet",
                "name": "Prezzo rotto",
                "price": "abc",
                "stock": 1,
            },
            {
                "id": "p-orfano",
                "dealer_id": "d-nessuno",
                "name": "Senza negozio",
                "price": 1,
                "stock": 1,
            },
        ]
    }
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert await run_cli(j, monkeypatch, "catalog", "import", str(path)) == 1
    out = capsys.readouterr().out
    assert "1 recorded, 0 unchanged, 2 errors" in out
    assert "product #2: product p-rotto: price must be a number" in out
    assert "product #3: product p-orfano: unknown dealer_id 'd-nessuno'" in out
    assert await run_cli(j, monkeypatch, "catalog", "import", str(path)) == 1
    assert "0 recorded, 1 unchanged, 2 errors" in capsys.readouterr().out
    upserts = [p for p in await j.stream("catalog") if isinstance(p, CatalogProductUpserted)]
    assert [u.product_id for u in upserts] == ["p-cuccia"]

    async def offered() -> bool:
        return j.deps.catalog.product("p-cuccia") is not None

    await j.until(offered)
    [answer] = await j.say(CUSTOMER, "Avete una cuccia per cane?")
    assert "Cuccia imbottita per cane: € 34,50" in body(answer)


async def test_contacts_import_makes_a_new_dealer_phone_and_reports_bad_rows(
    journey_factory: Start,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A contacts CSV: rows reach rider_contacts; the new dealer phone can use ``ordini``."""
    j = await journey_factory()
    path = tmp_path / "contacts.csv"
    path.write_text(
        "phone,name,contact_type,dealer_id\n"
        "+393405556677,Giulia (Toelettatura Pet),dealer,d-pet\n"
        "+393401112233,Luca,rider,\n"
        "12,Numero corto,rider,\n"
        "+393409990000,Senza tipo,cliente,\n",
        encoding="utf-8",
    )
    assert await run_cli(j, monkeypatch, "contacts", "import", str(path)) == 1
    out = capsys.readouterr().out
    assert "2 recorded, 0 unchanged, 2 errors" in out
    assert "contact #3: phone '12' is not a valid number" in out
    assert "contact #4: contact_type must be one of dealer, rider, support, got 'cliente'" in out
    assert await run_cli(j, monkeypatch, "contacts", "import", str(path)) == 1
    assert "0 recorded, 2 unchanged" in capsys.readouterr().out
    contacts = [p for p in await j.stream("contacts") if isinstance(p, ContactUpserted)]
    assert len(contacts) == 2

    async def projected() -> bool:
        async with j.deps.engines.reader.connect() as conn:
            rows = (await conn.execute(select(rider_contacts))).all()
        return len(rows) == 2

    await j.until(projected)
    await j.until(lambda: _knows_dealer(j, "+393405556677"))
    [listing] = await j.say("+393405556677", "ordini")
    assert "Non hai ordini aperti" in body(listing)


async def _knows_dealer(j: Journey, phone: str) -> bool:
    orders = next(r for r in j.deps.reactors if isinstance(r, OrderRelayDispatcher))
    return orders.reactor.live.is_dealer(phone)
