"""Dealers, catalogue and orders, with the dealer's row-level filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from adapters.readmodel.tables import whatsapp_order_relays
from tests.api.conftest import Api

pytestmark = pytest.mark.e2e


async def test_staff_see_every_dealer_and_a_dealer_sees_itself(api: Api) -> None:
    """/api/dealers is filtered for dealer tokens."""
    staff = await api.json("/api/dealers", who="support")
    assert [d["id"] for d in staff["items"]] == ["d-a", "d-b"]
    own = await api.json("/api/dealers", who="dealer_b")
    assert [d["id"] for d in own["items"]] == ["d-b"]


async def test_catalogue_has_prices_as_decimal_strings_and_stock(api: Api) -> None:
    """Prices keep two places; stock and in_stock are given."""
    body = await api.json("/api/catalog")
    first = body["items"][0]
    assert (first["id"], first["price"], first["stock"], first["in_stock"]) == (
        "p-a1",
        "18.90",
        5,
        True,
    )


async def test_catalogue_filters_by_dealer_and_dealers_see_only_theirs(api: Api) -> None:
    """?dealer= narrows for staff; a dealer token always gets its own products."""
    staff = await api.json("/api/catalog?dealer=d-b")
    assert [p["id"] for p in staff["items"]] == ["p-b1"]
    own = await api.json("/api/catalog?dealer=d-b", who="dealer_a")
    assert [p["id"] for p in own["items"]] == ["p-a1"]


async def test_bad_catalogue_filter_is_422(api: Api) -> None:
    """A dealer id with characters no id has is refused."""
    assert (await api.get("/api/catalog?dealer=%3Cscript%3E")).status == 422


async def test_orders_are_empty_when_nothing_was_ordered(api: Api) -> None:
    """A fresh service lists no orders, for every role."""
    for who in ("admin", "dealer_a"):
        assert await api.json("/api/orders", who=who) == {"items": [], "next_cursor": None}


async def create_relays(api: Api) -> None:
    """Two orders (confirmed) and two carts (never confirmed), as the projection shapes them."""
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    rows = [
        ("r1", "d-a", "relayed_to_dealer", "created", at),
        ("r2", "d-b", "accepted", "created", at),
        ("c1", "d-a", "awaiting_confirmation", "pending", None),
        ("c2", "d-a", "cancelled", "failed", None),  # a cart the customer replaced
    ]
    async with api.deps.engines.writer.begin() as conn:
        await conn.execute(
            insert(whatsapp_order_relays),
            [
                {
                    "id": rid,
                    "dealer_id": dealer,
                    "stage": stage,
                    "status": status,
                    "confirmed_at": confirmed,
                    "created_at": at + timedelta(minutes=n),
                }
                for n, (rid, dealer, stage, status, confirmed) in enumerate(rows)
            ],
        )


async def test_a_dealer_reads_only_its_own_orders(api: Api) -> None:
    """Dealer A gets its order; asking for dealer B's changes nothing."""
    await create_relays(api)
    own = await api.json("/api/orders?dealer=d-b", who="dealer_a")
    assert [o["id"] for o in own["items"]] == ["r1"]
    staff = await api.json("/api/orders")
    assert [o["id"] for o in staff["items"]] == ["r2", "r1"]
    assert await api.json("/api/carts", who="dealer_b") == {"items": [], "next_cursor": None}


async def test_orders_and_carts_are_separate_lists(api: Api) -> None:
    """Confirmed relays are orders whatever came later; unconfirmed ones are carts."""
    await create_relays(api)
    carts = await api.json("/api/carts")
    assert [(c["id"], c["stage"]) for c in carts["items"]] == [
        ("c2", "cancelled"),
        ("c1", "awaiting_confirmation"),
    ]
    waiting = await api.json("/api/orders?stage=relayed_to_dealer")
    assert [o["id"] for o in waiting["items"]] == ["r1"]
    counters = await api.json("/api/counters")
    assert (counters["pending_orders"], counters["open_carts"]) == (1, 1)


async def test_a_cart_stage_is_not_an_order_stage(api: Api) -> None:
    """?stage= takes the stages of its list only; the answer says which."""
    for path in ("/api/orders?stage=draft", "/api/carts?stage=accepted", "/api/orders?stage=x"):
        response = await api.get(path)
        assert response.status == 422, path
        assert "stage must be one of" in (await response.json())["error"]


async def test_orders_filter_by_status_and_dealer(api: Api) -> None:
    """status and dealer narrow the staff list."""
    await create_relays(api)
    created = await api.json("/api/orders?status=created&dealer=d-a")
    assert [o["id"] for o in created["items"]] == ["r1"]
    by_dealer = await api.json("/api/orders?dealer=d-b")
    assert [o["id"] for o in by_dealer["items"]] == ["r2"]
