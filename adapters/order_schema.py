"""Migration 5: the order relay's tables, owned by two packages that do not know each other.

The relays and rider contacts are projections (:mod:`adapters.readmodel.tables`); market
orders and push devices belong to the market side (:mod:`adapters.market.tables`). One
step made all four, so it lives here, above both, and the two packages stay independent
(the import-linter contract in ``pyproject.toml``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from adapters.market.tables import market_orders, push_devices
from adapters.readmodel.tables import rider_contacts, whatsapp_order_relays
from adapters.store.migrations import migration


@migration(5, "order relays, market orders, rider contacts, push devices")
def _order_tables(conn: Connection, _dialect: str) -> None:
    for table in (whatsapp_order_relays, rider_contacts, market_orders, push_devices):
        table.create(conn, checkfirst=True)
