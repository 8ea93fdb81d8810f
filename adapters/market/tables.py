"""Tables of the order relay (migration 5): market orders, relays, contacts and devices.

``whatsapp_order_relays`` and ``rider_contacts`` are projections (rebuilt from the log);
``market_orders`` is the local market adapter's own store and ``push_devices`` holds the
FCM tokens registered with ``dloop-bot devices`` (tokens are credentials of a device, not
facts, so they are kept out of the event log).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    inspect,
    text,
)

from adapters.readmodel.tables import TABLES
from adapters.store.migrations import migration
from adapters.store.schema import UtcDateTime

metadata = MetaData()

whatsapp_order_relays = Table(
    "whatsapp_order_relays",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(36), nullable=True),
    Column("phone", String(64), nullable=True),
    Column("order_data", JSON, nullable=True),
    Column("products", JSON, nullable=True),
    Column("total_price", Numeric(12, 2), nullable=True),
    Column("status", String(16), nullable=False, default="pending"),
    Column("stage", String(32), nullable=True),
    Column("order_number", Integer, nullable=True),
    Column("market_order_id", String(128), nullable=True),
    Column("dealer_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Index("ix_order_relays_dealer", "dealer_id", "stage"),
    Index("ix_order_relays_number", "order_number"),
)

rider_contacts = Table(
    "rider_contacts",
    metadata,
    Column("phone", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("contact_type", String(16), nullable=False),
    Column("dealer_id", String(64), nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
)

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

# The projection runner finds tables by name in the read-model registry.
TABLES.setdefault(whatsapp_order_relays.name, whatsapp_order_relays)
TABLES.setdefault(rider_contacts.name, rider_contacts)


@migration(5, "order relays, market orders, rider contacts, push devices")
def _order_tables(conn: Connection, _dialect: str) -> None:
    metadata.create_all(conn)


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
