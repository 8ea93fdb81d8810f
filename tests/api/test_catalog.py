"""Dealers, catalogue and orders, with the dealer's row-level filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

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


async def test_orders_are_empty_without_the_relay_table(api: Api) -> None:
    """Before order relays are projected (no table) the list is empty, not an error."""
    async with api.deps.engines.writer.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS whatsapp_order_relays"))
    assert await api.json("/api/orders") == {"items": [], "next_cursor": None}
    assert (await api.json("/api/counters"))["pending_orders"] is None


async def create_relays(api: Api) -> None:
    """One relay row per dealer (created as the order-relay projection would shape them)."""
    at = datetime(2026, 11, 27, 10, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    async with api.deps.engines.writer.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS whatsapp_order_relays (id VARCHAR(36) PRIMARY KEY,"
                " conversation_id VARCHAR(36), phone VARCHAR(64), dealer_id VARCHAR(64),"
                " status VARCHAR(16), total_price VARCHAR(16), created_at DATETIME)"
            )
        )
        for rid, dealer, status in (("r1", "d-a", "pending"), ("r2", "d-b", "confirmed")):
            await conn.execute(
                text(
                    "INSERT INTO whatsapp_order_relays (id, dealer_id, status, created_at)"
                    " VALUES (:id, :dealer, :status, :at)"
                ),
                {"id": rid, "dealer": dealer, "status": status, "at": at},
            )


async def test_a_dealer_reads_only_its_own_orders(api: Api) -> None:
    """Dealer A gets its relay; asking for dealer B's changes nothing."""
    await create_relays(api)
    own = await api.json("/api/orders?dealer=d-b", who="dealer_a")
    assert [o["id"] for o in own["items"]] == ["r1"]
    staff = await api.json("/api/orders")
    assert sorted(o["id"] for o in staff["items"]) == ["r1", "r2"]


async def test_orders_filter_by_status_and_dealer(api: Api) -> None:
    """status and dealer narrow the staff list; pending orders are counted."""
    await create_relays(api)
    pending = await api.json("/api/orders?status=pending")
    assert [o["id"] for o in pending["items"]] == ["r1"]
    by_dealer = await api.json("/api/orders?dealer=d-b")
    assert [o["id"] for o in by_dealer["items"]] == ["r2"]
    assert (await api.json("/api/counters"))["pending_orders"] == 1
