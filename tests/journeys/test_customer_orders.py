"""Customer journeys: from an order to the market, the dealer and back to the customer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from adapters.fakes.market_api import FakeMarketApi
from adapters.market.tables import market_orders
from adapters.readmodel.tables import whatsapp_order_relays
from events.market import MarketOrderDeferred, OrderNumberAssigned
from events.orders import MarketOrderCreated, OrderExpired
from tests.conftest import person_stream
from tests.journeys.conftest import CUSTOMER, PET, PHARMACY, Journey, body, buttons

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def relay_rows(j: Journey) -> list[dict[str, object]]:
    """The projected relay rows."""
    async with j.deps.engines.reader.connect() as conn:
        rows = (await conn.execute(select(whatsapp_order_relays))).mappings().all()
    return [dict(r) for r in rows]


async def test_free_text_order_is_confirmed_created_and_relayed_to_the_dealer(
    journey_factory: Start,
) -> None:
    """Free text -> cart -> Confermo -> market order, dealer message with buttons, order number."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    [cart] = await j.say(CUSTOMER, "Vorrei 2 crocchette per cane e una lettiera")
    assert "47,70" in body(cart)
    await j.confirm(CUSTOMER)
    relayed = await j.next_to(PET, 1, contains="Nuovo ordine Dloop n. 1")
    assert [title for _, title in buttons(relayed)] == ["Accetta", "Rifiuta"]
    assert "2 × Crocchette per cane adulto 3 kg" in body(relayed)
    told = await j.next_to(CUSTOMER, 0, contains="ordine n. 1")
    assert "50,60" in body(told)  # 47,70 of items + 2,90 delivery
    async with j.deps.engines.reader.connect() as conn:
        [order] = (await conn.execute(select(market_orders))).mappings().all()
    await j.until(lambda: _relay_stage_is(j, "relayed_to_dealer"))
    [row] = await relay_rows(j)
    assert (row["status"], row["market_order_id"], row["order_number"]) == (
        "created",
        order["id"],
        1,
    )
    assert row["dealer_id"] == "d-pet"
    # ADR 0013: the number beside the pseudonymous person id (ADR 0007) the events carry
    assert row["phone"] == CUSTOMER
    assert row["person_id"] == person_stream(CUSTOMER).removeprefix("conversation-")


async def _relay_stage_is(j: Journey, stage: str) -> bool:
    rows = await relay_rows(j)
    return bool(rows) and all(r["stage"] == stage for r in rows)


async def test_a_cart_across_two_dealers_makes_one_relay_per_dealer(journey_factory: Start) -> None:
    """Crocchette (pet shop) + paracetamolo (pharmacy): two relays, two numbers, two dealers."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    await j.say(PHARMACY, "aiuto")
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane e una tachipirina")
    await j.confirm(CUSTOMER)
    pet = await j.next_to(PET, 1, contains="Nuovo ordine")
    pharmacy = await j.next_to(PHARMACY, 1, contains="Nuovo ordine")
    assert "Paracetamolo" in body(pharmacy)
    assert "Paracetamolo" not in body(pet)
    await j.until(lambda: _relay_stage_is(j, "relayed_to_dealer"))
    rows = await relay_rows(j)
    assert sorted(str(r["dealer_id"]) for r in rows) == ["d-farmacia", "d-pet"]
    assert sorted(int(str(r["order_number"])) for r in rows) == [1, 2]


async def test_the_dealer_accepts_with_the_button_and_the_customer_is_told(
    journey_factory: Start,
) -> None:
    """Accetta button -> relay accepted -> customer gets the good news with the number."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "vorrei una lettiera")
    await j.confirm(CUSTOMER)
    relayed = await j.next_to(PET, 1, contains="Nuovo ordine")
    accept_id, title = buttons(relayed)[0]
    await j.press(PET, accept_id, title)
    news = await j.next_to(CUSTOMER, 0, contains="ha accettato")
    assert "Toelettatura Pet" in body(news)
    assert "n. 1" in body(news)
    await j.next_to(PET, 2, contains="Ordine n. 1 accettato")
    await j.until(lambda: _relay_stage_is(j, "accepted"))


async def test_the_dealer_accepts_by_text_command_with_typos(journey_factory: Start) -> None:
    """``Acceta 1`` (case and typo) accepts order 1."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "vorrei una lettiera")
    await j.confirm(CUSTOMER)
    await j.next_to(PET, 1, contains="Nuovo ordine")
    [ack] = await j.say(PET, "Acceta 1")
    assert "accettato" in body(ack)
    await j.next_to(CUSTOMER, 0, contains="ha accettato")


async def test_one_dealer_rejects_with_a_reason_and_the_other_share_goes_on(
    journey_factory: Start,
) -> None:
    """Pharmacy rejects with a reason: the customer is told why; the pet shop can still accept."""
    j = await journey_factory()
    await j.say(PET, "aiuto")
    await j.say(PHARMACY, "aiuto")
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane e una tachipirina")
    await j.confirm(CUSTOMER)
    pharmacy = await j.next_to(PHARMACY, 1, contains="Nuovo ordine")
    number = body(pharmacy).split("n. ")[1].split(":")[0]
    [ack] = await j.say(PHARMACY, f"rifiuta {number} farmaco finito")
    assert "rifiutato" in body(ack)
    news = await j.next_to(CUSTOMER, 0, contains="non può preparare")
    assert "Motivo: farmaco finito" in body(news)
    await j.next_to(PET, 1, contains="Nuovo ordine")
    stages = {r["dealer_id"]: r["stage"] for r in await relay_rows(j)}
    assert stages["d-pet"] == "relayed_to_dealer"


async def test_an_unconfirmed_cart_expires_with_a_notice(journey_factory: Start) -> None:
    """No Confermo within the expiry time: the relay expires and the customer is told."""
    j = await journey_factory(order_confirmation_minutes=0.005)
    await j.say(CUSTOMER, "vorrei una lettiera")
    notice = await j.next_to(CUSTOMER, 1, contains="è scaduto")
    assert "riscrivimi" in body(notice)
    await j.until(lambda: _relay_stage_is(j, "expired"))
    [row] = await relay_rows(j)
    relay = await j.stream(f"order-{row['id']}")
    assert any(isinstance(p, OrderExpired) for p in relay)
    replies = await j.say(CUSTOMER, "Confermo", wait=1)
    assert all("Ordine confermato" not in body(r) for r in replies)


async def test_the_http_market_receives_an_idempotency_key(
    journey_factory: Start, market_api: FakeMarketApi
) -> None:
    """With MARKET_API_URL the order is posted once, keyed by the relay id."""
    j = await journey_factory(market_api_url=market_api.base_url)
    await j.say(CUSTOMER, "vorrei una lettiera")
    await j.confirm(CUSTOMER)
    await j.next_to(CUSTOMER, 0, contains="ordine n. 1")
    [request] = market_api.requests
    [row] = await relay_rows(j)
    assert request.idempotency_key == row["id"]
    assert request.body["total"] == "9.90"
    relay = await j.stream(f"order-{row['id']}")
    assert [p.market_order_id for p in relay if isinstance(p, MarketOrderCreated)] == ["DL-1001"]


async def test_market_down_parks_the_order_tells_the_customer_and_retries(
    journey_factory: Start, market_api: FakeMarketApi
) -> None:
    """503 from the market: parked (customer told), retried later, then relayed."""
    market_api.down = True
    j = await journey_factory(market_api_url=market_api.base_url, market_retry_seconds=0.3)
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "vorrei una lettiera")
    await j.confirm(CUSTOMER)
    await j.next_to(CUSTOMER, 0, contains="momentaneamente non raggiungibile")
    market_api.down = False
    await j.next_to(CUSTOMER, 0, contains="ordine n. 1")
    await j.next_to(PET, 1, contains="Nuovo ordine")
    [row] = await relay_rows(j)
    relay = await j.stream(f"order-{row['id']}")
    assert any(isinstance(p, MarketOrderDeferred) for p in relay)
    assert [p.number for p in relay if isinstance(p, OrderNumberAssigned)] == [1]
    assert {r.idempotency_key for r in market_api.requests} == {row["id"]}
    assert len(market_api.orders) == 1
