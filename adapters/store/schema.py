"""Table definitions of the event store (the read-side tables live with their projections).

``data`` and ``metadata`` are stored as JSON text written by our own codec, on both
backends: the bytes we wrote are the bytes we read, and a corrupt row is reported with its
position instead of failing inside a driver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both backends (SQLite keeps no offset itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; SQLite gets a naive UTC value because it drops offsets."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime."""
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


metadata = MetaData()

PositionType = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: rowid alias

events = Table(
    "events",
    metadata,
    Column("position", PositionType, primary_key=True, autoincrement=True),
    Column("event_id", Uuid(as_uuid=True), nullable=False),
    Column("stream", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(255), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("tx_id", BigInteger, nullable=True),  # PostgreSQL transaction id, for audits
    UniqueConstraint("event_id", name="uq_events_event_id"),
    UniqueConstraint("stream", "version", name="uq_events_stream_version"),
    Index("ix_events_type", "type"),
    sqlite_autoincrement=True,  # positions are never reused, even after a rollback
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)
