"""Read tables, named and shaped like the original Supabase schema.

Created by migrations 2 and 3 (the order relays and rider contacts by 5, the inbox
indexes by 6, who and why by 9, the carts' delivery addresses by 15); each projection
table belongs to exactly one projection (see ``projections/``).
``review_dismissals`` and ``api_tokens`` are operator state written by the read API and
the ``token`` command, never by projections, so a rebuild keeps them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    delete,
    inspect,
    text,
    update,
)

from adapters.store.migrations import migration
from adapters.store.schema import UtcDateTime, checkpoints

metadata = MetaData()

whatsapp_conversations = Table(
    "whatsapp_conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("phone", String(64), nullable=True),
    Column("conversation_type", String(16), nullable=False, default="customer"),
    Column("context", JSON, nullable=True),
    Column("message_count", Integer, nullable=False, default=0),
    Column("last_message_at", UtcDateTime, nullable=True),
    Column("stage", String(32), nullable=True),
    Column("assignee", String(128), nullable=True),
    Column("unread_count", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    # migration 9: who, and why a person is needed (see adapters/readmodel/who.py)
    Column("person_id", String(64), nullable=True),
    Column("profile_name", String(255), nullable=True),
    Column("attention", String(32), nullable=True),  # escalated | taken_over | send_failed
    Column("attention_since", UtcDateTime, nullable=True),
    Column("search_text", Text, nullable=True),  # name and recent messages, lower case
    Index("ix_conversations_phone", "phone"),
    Index("ix_conversations_last_message_at", "last_message_at"),  # dropped by migration 6
)

whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(36), nullable=True),
    Column("phone", String(64), nullable=True),
    Column("direction", String(16), nullable=True),
    Column("content", Text, nullable=True),
    Column("type", String(32), nullable=True),
    Column("status", String(16), nullable=True),
    Column("meta_message_id", String(255), nullable=True),
    Column("meta_response", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("person_id", String(64), nullable=True),  # migration 9
    Column("profile_name", String(255), nullable=True),
    Column("sender", String(16), nullable=True),  # outbound: bot | agent (templates: type)
    Column("agent", String(128), nullable=True),
    Index("ix_messages_conversation", "conversation_id", "created_at"),
    Index("ix_messages_meta_id", "meta_message_id"),
)

review_queue = Table(
    "review_queue",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "kind", String(32), nullable=False
    ),  # parked | assistant_failed | outbound_failed | escalated | operator_alert
    Column("conversation_id", String(36), nullable=True),
    Column("stream", String(255), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("summary", Text, nullable=True),
    Column("status", String(16), nullable=False, default="open"),  # open | dismissed | retried
    Column("created_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Index("ix_review_queue_status_position", "status", "position"),
)

review_dismissals = Table(
    "review_dismissals",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("dismissed_by", String(128), nullable=False),
    Column("dismissed_at", UtcDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex, never the secret
    Column("role", String(16), nullable=False),  # admin | support | dealer
    Column("dealer_id", String(64), nullable=True),
    Column("label", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# The order relay's projections, made by migration 5 with the market's own tables
# (adapters/order_schema.py), so kept apart from the steps of this module.
relay_metadata = MetaData()

whatsapp_order_relays = Table(
    "whatsapp_order_relays",
    relay_metadata,
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
    # migration 9: who the customer is, and when the relay became an order
    Column("person_id", String(64), nullable=True),
    Column("profile_name", String(255), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),  # set: an order; unset: a cart
    Column("stage_changed_at", UtcDateTime, nullable=True),
    Column("dealer_silent_at", UtcDateTime, nullable=True),
    # migration 15: the address the customer gave at checkout (readmodel/addresses.py)
    Column("delivery_address", Text, nullable=True),
    Index("ix_order_relays_dealer", "dealer_id", "stage"),
    Index("ix_order_relays_number", "order_number"),
)

# Migration 15: where each cart is delivered, from the customer's checkout (the address is
# sealed in their stream, so it is kept apart from the relays, one row per cart).
order_deliveries = Table(
    "order_deliveries",
    relay_metadata,
    Column("cart_id", String(64), primary_key=True),
    Column("conversation_id", String(36), nullable=True),
    Column("address", Text, nullable=True),
    Column("completed_at", UtcDateTime, nullable=True),
)

rider_contacts = Table(
    "rider_contacts",
    relay_metadata,
    Column("phone", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("contact_type", String(16), nullable=False),
    Column("dealer_id", String(64), nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
)

TABLES = {
    t.name: t
    for t in (*metadata.sorted_tables, whatsapp_order_relays, order_deliveries, rider_contacts)
}


@migration(2, "read tables: conversations and messages")
def _read_tables(conn: Connection, _dialect: str) -> None:
    whatsapp_conversations.create(conn)
    whatsapp_messages.create(conn)


@migration(3, "review queue, review dismissals and API tokens")
def _review_and_tokens(conn: Connection, _dialect: str) -> None:
    review_queue.create(conn)
    review_dismissals.create(conn)
    api_tokens.create(conn)


# The inbox lists conversations newest first (last_message_at DESC NULLS LAST, id DESC),
# optionally by stage, type or assignee: one index per shape, in that order, so a page is
# an index range walk whatever the table size (docs/benchmarks.md, bench api).
_INBOX_INDEXES = {
    "ix_conversations_recent": (),
    "ix_conversations_stage_recent": ("stage",),
    "ix_conversations_type_recent": ("conversation_type",),
    "ix_conversations_assignee_recent": ("assignee",),
}


@migration(6, "inbox indexes: conversations newest first, by stage, type and assignee")
def _inbox_indexes(conn: Connection, dialect: str) -> None:
    # SQLite sorts NULL lowest, so DESC already puts them last (and its CREATE INDEX has no
    # NULLS clause); PostgreSQL needs it spelled out to match the query's ORDER BY.
    nulls = " NULLS LAST" if dialect == "postgresql" else ""
    for name, prefix in _INBOX_INDEXES.items():
        columns = ", ".join((*prefix, f"last_message_at DESC{nulls}", "id DESC"))
        conn.execute(text(f"CREATE INDEX {name} ON whatsapp_conversations ({columns})"))
    conn.execute(text("DROP INDEX ix_conversations_last_message_at"))  # covered by the first


@migration(15, "order deliveries: each cart's address from the checkout, for the orders board")
def _order_deliveries(conn: Connection, _dialect: str) -> None:
    order_deliveries.create(conn, checkfirst=True)
    present = {c["name"] for c in inspect(conn).get_columns(whatsapp_order_relays.name)}
    if "delivery_address" not in present:  # tables made by step 5 since have it already
        conn.execute(text("ALTER TABLE whatsapp_order_relays ADD COLUMN delivery_address TEXT"))
    # The relays' projection now reads checkout.completed too: empty its rows and let the
    # running service replay it from position 0, as migration 9 did.
    conn.execute(delete(whatsapp_order_relays))
    mark = checkpoints.c.name == "projection:whatsapp_order_relays"
    conn.execute(update(checkpoints).where(mark).values(position=0))
