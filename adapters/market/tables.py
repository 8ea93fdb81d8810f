"""Tables of the market side: market orders and push devices (made by migration 5).

``market_orders`` is the local market adapter's own store and ``push_devices`` holds the
FCM tokens registered with ``dloop-bot devices`` (tokens are credentials of a device, not
facts, so they are kept out of the event log). The relay and contact tables made by the
same step are projections and live in :mod:`adapters.readmodel.tables`; the step itself
is in :mod:`adapters.order_schema`, which alone knows both packages.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    inspect,
    text,
)

from adapters.store.migrations import migration
from adapters.store.schema import UtcDateTime

metadata = MetaData()

market_orders = Table(
    "market_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("relay_id", String(64), nullable=False, unique=True),
    Column("customer", String(64), nullable=False),
    Column("dealer_id", String(64), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("total", Numeric(12, 2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False, default="created"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivery", JSON, nullable=True),  # migration 13: address, when, payment, fee
)

push_devices = Table(
    "push_devices",
    metadata,
    Column("token", Text, primary_key=True),
    Column("owner_kind", String(16), nullable=False),  # rider | support | customer
    Column("owner", String(128), nullable=False),  # phone or agent name
    Column("created_at", UtcDateTime, nullable=False),
    Column("platform", String(16), nullable=True),  # android | ios | web (migration 7)
    Index("ix_push_devices_kind", "owner_kind"),
)


@migration(7, "push devices: platform")
def _device_platform(conn: Connection, _dialect: str) -> None:
    # Databases made before this step lack the column; newer ones got it from step 5.
    columns = {c["name"] for c in inspect(conn).get_columns(push_devices.name)}
    if "platform" not in columns:
        conn.execute(text("ALTER TABLE push_devices ADD COLUMN platform VARCHAR(16)"))


@migration(13, "market orders: delivery (address, time, payment, fee) from the checkout")
def _market_order_delivery(conn: Connection, _dialect: str) -> None:
    # Databases made before this step lack the column; newer ones got it from step 5.
    columns = {c["name"] for c in inspect(conn).get_columns(market_orders.name)}
    if "delivery" not in columns:
        conn.execute(text("ALTER TABLE market_orders ADD COLUMN delivery JSON"))
