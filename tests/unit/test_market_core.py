"""Pure market rules: catalog orders, import plans and relay deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.bootstrap import load_catalog
from core.market import Directory, RelayExtras, next_deadline, read_catalog_order
from core.market_import import plan_catalog_import, plan_contacts_import
from core.order_relay import RelayStage, RelayState, RelayTimeouts
from events.market import CatalogProductUpserted, PriceMismatch
from events.whatsapp import Order, OrderItem

CATALOG = load_catalog(None)
T0 = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)


def _item(rid: str, qty: int, price: str) -> OrderItem:
    return OrderItem(
        product_retailer_id=rid, quantity=qty, item_price=Decimal(price), currency="EUR"
    )


def test_catalog_order_maps_ids_and_keeps_out_unknown_and_mispriced_lines() -> None:
    """Known ids at our price make the cart; the rest are reported."""
    order = Order(
        catalog_id="c",
        text=None,
        items=(_item("p-lettiera", 2, "9.90"), _item("p-rose", 1, "40.00"), _item("X", 1, "1")),
    )
    reading = read_catalog_order(order, CATALOG)
    assert [(line.product_id, line.quantity) for line in reading.lines] == [("p-lettiera", 2)]
    assert reading.unknown == ("X",)
    assert reading.mismatches == (
        PriceMismatch(product_id="p-rose", sent_price=Decimal("40.00"), our_price=Decimal("45.00")),
    )


def test_catalog_import_plan_records_only_changes_and_names_bad_rows() -> None:
    """An unchanged row records nothing; a changed price is an upsert; a bad row an error."""
    rows = [
        {
            "id": "p-lettiera",
            "dealer_id": "d-pet",
            "name": "Lettiera agglomerante 10 L",
            "description": "Sabbia per gatti agglomerante, inodore",
            "price": 9.9,
            "stock": 18,
            "tags": ["sabbia", "gatto"],
        },
        {
            "id": "p-latte",
            "dealer_id": "d-alimentari",
            "name": "Latte intero fresco 1 L",
            "price": 1.99,
            "stock": 40,
        },
        {"id": "p-x", "dealer_id": "d-pet", "name": "X", "price": -1, "stock": 1},
    ]
    plan = plan_catalog_import([], rows, CATALOG)
    assert plan.unchanged == 1
    assert [
        (e.product_id, e.price) for e in plan.events if isinstance(e, CatalogProductUpserted)
    ] == [("p-latte", Decimal("1.99"))]
    assert [(e.row, e.message) for e in plan.errors] == [
        ("product #3", "product p-x: price must not be negative")
    ]


def test_a_dealer_contact_needs_a_known_dealer() -> None:
    """``dealer_id`` is required for dealers and must exist in the catalogue."""
    rows = [{"phone": "+393405556677", "name": "G", "contact_type": "dealer", "dealer_id": "d-no"}]
    plan = plan_contacts_import(rows, Directory(), CATALOG)
    assert [e.message for e in plan.errors] == ["unknown dealer_id 'd-no'"]


def test_deadlines_follow_the_relay_stage() -> None:
    """Awaiting: expiry; relayed: reminder then escalation; parked: the retry time."""
    t = RelayTimeouts()
    waiting = RelayState(relay_id="r", stage=RelayStage.AWAITING_CONFIRMATION, requested_at=T0)
    assert next_deadline(waiting, RelayExtras(), t) == ("confirmation", T0 + timedelta(minutes=30))
    relayed = RelayState(relay_id="r", stage=RelayStage.RELAYED_TO_DEALER, relayed_at=T0)
    assert next_deadline(relayed, RelayExtras(), t) == (
        "dealer_reminder",
        T0 + timedelta(minutes=10),
    )
    reminded = RelayState(
        relay_id="r", stage=RelayStage.RELAYED_TO_DEALER, relayed_at=T0, reminded_at=T0
    )
    assert next_deadline(reminded, RelayExtras(), t) == (
        "dealer_escalation",
        T0 + timedelta(minutes=10),
    )
    parked = RelayState(relay_id="r", stage=RelayStage.CONFIRMED)
    later = T0 + timedelta(seconds=30)
    assert next_deadline(parked, RelayExtras(deferrals=1, retry_at=later), t) == (
        "market_retry",
        later,
    )
    done = RelayState(relay_id="r", stage=RelayStage.ACCEPTED)
    assert next_deadline(done, RelayExtras(), t) is None
