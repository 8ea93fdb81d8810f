"""Market orders and device tokens on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from adapters.market.local import LocalMarketOrders
from adapters.notify.devices import DeviceError, DeviceRegistry
from adapters.store.engine import Engines
from core.market import MarketOrderRequest
from events.conversation import PricedLine

LINE = PricedLine(
    product_id="p-lettiera",
    dealer_id="d-pet",
    name="Lettiera agglomerante 10 L",
    quantity=2,
    unit_price=Decimal("9.90"),
    line_total=Decimal("19.80"),
)


async def test_local_market_orders_are_idempotent_by_relay(engines: Engines) -> None:
    """Creating the same relay's order twice returns the first id."""
    market = LocalMarketOrders(engines)
    order = MarketOrderRequest(
        relay_id="r-1",
        customer="+393281234567",
        dealer_id="d-pet",
        lines=(LINE,),
        total=Decimal("19.80"),
    )
    first = await market.create(order)
    assert await market.create(order) == first
    other = await market.create(dataclasses.replace(order, relay_id="r-2"))
    assert other != first


async def test_device_tokens_are_added_moved_listed_and_removed(engines: Engines) -> None:
    """A token re-added moves to its new owner; removal reports whether it existed."""
    devices = DeviceRegistry(engines)
    _, new = await devices.add("token-aaa", "rider", "+393401112233")
    _, again = await devices.add("token-aaa", "support", "marta")
    assert (new, again) == (True, False)
    await devices.add("token-bbb", "rider", "+393401112244")
    assert [(d.token, d.owner_kind) for d in await devices.list("support")] == [
        ("token-aaa", "support")
    ]
    assert await devices.remove("token-bbb")
    assert not await devices.remove("token-bbb")
    with pytest.raises(DeviceError, match="owner_kind must be one of"):
        await devices.add("token-ccc", "dealer", "x")
