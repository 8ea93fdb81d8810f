"""The orders board's data: an order carries its checkout (address, time, payment, fee).

The address stays sealed in the customer's stream; the read side keeps it per cart
(``order_deliveries``) and writes it beside the order (``delivery_address`` of
``whatsapp_order_relays``), until the customer is erased, after which it reads
``[erased]`` and the rest of the order stays.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from adapters.auth.tokens import Role, TokenStore
from adapters.ops.audit import audit
from adapters.ops.erase import erase_person
from adapters.readmodel.tables import whatsapp_order_relays
from events.base import ERASED
from tests.journeys.conftest import CUSTOMER, Journey
from tests.journeys.test_read_tables import Start, ordered_and_relayed
from tests.support.days import MONDAY

pytestmark = pytest.mark.e2e


async def listed(j: Journey, path: str) -> list[dict[str, Any]]:
    """The items of a read-API listing, asked with a support token."""
    _, secret = await TokenStore(j.deps.engines).create(Role.SUPPORT, label="marta")
    resp = await j.client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert resp.status == 200, await resp.text()
    items: list[dict[str, Any]] = (await resp.json())["items"]
    return items


async def test_an_order_lists_the_checkout_address_time_payment_and_fee(
    journey_factory: Start,
) -> None:
    """What the customer told the checkout is on the order the board shows."""
    j = await ordered_and_relayed(journey_factory)
    [order] = await listed(j, "/api/orders")
    assert order["phone"] == CUSTOMER
    assert "via Torino 15" in order["delivery_address"]
    data = order["order_data"]
    assert MONDAY.search(data["delivery_when"]), data["delivery_when"]
    assert data["payment"] == "contanti"
    fee = Decimal(data["delivery_fee"])
    assert fee > 0
    assert Decimal(data["total_with_delivery"]) == Decimal(order["total_price"]) + fee
    assert await listed(j, "/api/carts") == []
    async with j.deps.engines.reader.connect() as conn:
        [row] = (await conn.execute(select(whatsapp_order_relays))).mappings()
    assert row["delivery_address"] == order["delivery_address"]
    assert (await audit(j.deps.store)).findings == []


async def test_a_cart_not_checked_out_has_no_address(journey_factory: Start) -> None:
    """A cart waiting for its confirmation lists ``delivery_address`` as null."""
    j = await journey_factory()
    await j.say(CUSTOMER, "Vorrei 2 crocchette per cane")

    async def drafted() -> bool:
        return len(await listed(j, "/api/carts")) == 1

    await j.until(drafted)
    [cart] = await listed(j, "/api/carts")
    assert cart["delivery_address"] is None
    assert "delivery_when" not in cart["order_data"]


async def test_an_erased_customer_s_address_reads_erased(journey_factory: Start) -> None:
    """Erasure rebuilds the deliveries too: the address goes, the order stays."""
    j = await ordered_and_relayed(journey_factory)
    await erase_person(j.deps.store, CUSTOMER)
    [order] = await listed(j, "/api/orders")
    assert order["delivery_address"] == ERASED
    assert "via Torino" not in repr(order)
    assert order["order_data"]["payment"] == "contanti"
    assert (await audit(j.deps.store)).findings == []
