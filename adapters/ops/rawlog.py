"""The event log as stored, row by row: the operator tools' own reader.

The tools need what the store's reader hides: the exact ``data`` and ``metadata`` text
(for the hash chain and the retention rewrite) and a decode that reports a corrupt row
instead of stopping at it (audit must name the row and go on). Rows are read with plain
``text()`` statements, so values arrive as the driver gives them (SQLite: hex ids and
naive UTC text; PostgreSQL: native UUIDs and aware datetimes) and are normalised here.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import events
from adapters.store.engine import Engines
from adapters.store.event_store import driver_connection, gc_paused, loads
from adapters.store.people import People, sealed_people_in
from adapters.store.person_keys import DbKeyStore
from events.base import Metadata, RecordedEvent, fast_constructor
from events.codec import decode_payload


@functools.cache
def import_all_events() -> None:
    """Import every ``events`` module, so every shipped type is registered for decoding."""
    for module in pkgutil.iter_modules(events.__path__, prefix="events."):
        importlib.import_module(module.name)


SELECT_EVENTS = (
    "SELECT position, event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at FROM events"
)
_PAGE = text(
    SELECT_EVENTS + " WHERE position > :after AND position <= :until ORDER BY position LIMIT :limit"
)


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One ``events`` row with ``data`` and ``metadata`` as the stored JSON text."""

    position: int
    raw_id: Any  # as the driver gave it: a UUID, or SQLite's hex text (see ``event_id``)
    stream: str
    version: int
    type: str
    schema_version: int
    data: str
    metadata: str
    recorded_at: datetime  # aware, UTC

    @property
    def event_id(self) -> UUID:
        """The event id (converted on demand: replay of long streams never needs it)."""
        return self.raw_id if isinstance(self.raw_id, UUID) else UUID(str(self.raw_id))

    @property
    def event_id_text(self) -> str:
        """The event id in canonical text form, without building a UUID when avoidable."""
        raw = self.raw_id
        if isinstance(raw, str) and len(raw) == 32:  # SQLite's hex storage
            return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}".lower()
        return str(self.event_id)

    def decode(self, data: Any = None) -> RecordedEvent:
        """The envelope with its payload decoded (``data``: the parsed ``data``, if at hand).

        Raises ``EventDecodeError`` subclasses, or ``ValueError`` for text that is not JSON.
        """
        if data is None:
            data = self.json_data()
        return RecordedEvent(
            position=self.position,
            event_id=self.event_id,
            stream=self.stream,
            version=self.version,
            type=self.type,
            schema_version=self.schema_version,
            payload=decode_payload(self.type, self.schema_version, data, position=self.position),
            metadata=Metadata.from_json(self.json_metadata()),
            recorded_at=self.recorded_at,
        )

    def payload(self) -> Any:
        """Only the payload decoded (replay needs no envelope); raises like :meth:`decode`."""
        return decode_payload(
            self.type, self.schema_version, self.json_data(), position=self.position
        )

    def json_data(self) -> Any:
        """``data`` parsed (``ValueError`` when it is not JSON)."""
        return loads(self.data)

    def json_metadata(self) -> dict[str, Any]:
        """``metadata`` parsed; an unreadable or non-object value reads as empty."""
        try:
            value = json.loads(self.metadata)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def utc(value: Any) -> datetime:
    """A stored timestamp (SQLite text, naive UTC; PostgreSQL aware) as aware UTC."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise TypeError(f"not a timestamp: {value!r}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def raw_event(row: Any) -> RawEvent:
    """A driver row of ``SELECT_EVENTS`` as a :class:`RawEvent`."""
    position, event_id, stream, version, type_name, schema_version, data, meta, at = row
    return RawEvent(
        position=int(position),
        raw_id=event_id,
        stream=stream,
        version=int(version),
        type=type_name,
        schema_version=int(schema_version),
        data=data,
        metadata=meta,
        recorded_at=utc(at),
    )


_NO_TIME = object()


def raw_events(rows: Any) -> list[RawEvent]:
    """:func:`raw_event` for many rows; rows of one transaction share one parsed time."""
    out: list[RawEvent] = []
    last_at: Any = _NO_TIME
    parsed = datetime.min
    new = _new_raw
    for position, event_id, stream, version, type_name, schema_version, data, meta, at in rows:
        if at != last_at:  # equal text or equal datetimes: the same parsed time
            last_at, parsed = at, utc(at)
        out.append(
            new(int(position), event_id, stream, int(version), type_name, int(schema_version),
                data, meta, parsed)
        )  # fmt: skip
    return out


async def last_position(conn: AsyncConnection) -> int:
    """The highest position stored (0 for an empty log)."""
    value = (await conn.execute(text("SELECT max(position) FROM events"))).scalar()
    return int(value or 0)


async def pages(
    engines: Engines, *, after: int = 0, until: int | None = None, size: int = 5000
) -> AsyncIterator[list[RawEvent]]:
    """Every row with ``after < position <= until``, in position order, ``size`` at a time."""
    async with engines.reader.connect() as conn:
        bound = await last_position(conn) if until is None else until
    while after < bound:
        async with engines.reader.connect() as conn:
            params = {"after": after, "until": bound, "limit": size}
            rows = (await conn.execute(_PAGE, params)).all()
        if not rows:
            return
        page = raw_events(rows)
        await load_keys(engines, page)
        yield page
        after = page[-1].position


_SQLITE_STREAM = SELECT_EVENTS + " WHERE stream = ? AND position <= ? ORDER BY version"
_PG_STREAM = SELECT_EVENTS + " WHERE stream = $1 AND position <= $2 ORDER BY version"


async def read_stream(engines: Engines, stream: str, *, until: int | None = None) -> list[RawEvent]:
    """The rows of ``stream`` in version order, up to position ``until``.

    Fetched in one driver call (replay reads long streams: no per-row SQLAlchemy work).
    """
    limit = until if until is not None else 2**62
    async with engines.reader.connect() as conn:
        driver = await driver_connection(conn)
        if engines.dialect == "sqlite":
            rows: Any = await driver.execute_fetchall(_SQLITE_STREAM, (stream, limit))
        else:
            rows = await driver.fetch(_PG_STREAM, stream, limit)
    with gc_paused():  # thousands of rows, no cycles: no collector passes while built
        found = raw_events(rows)
    await load_keys(engines, found)
    return found


async def load_keys(engines: Engines, rows: list[RawEvent]) -> None:
    """Fetch the keys that open the sealed personal fields of ``rows`` (decode needs them)."""
    wanted = sealed_people_in([row.data for row in rows])
    if wanted:
        await People(DbKeyStore(engines)).load(wanted)


async def streams_like(engines: Engines, prefix: str) -> list[str]:
    """The distinct stream names starting with ``prefix``."""
    stmt = text("SELECT DISTINCT stream FROM events WHERE stream LIKE :p ORDER BY stream")
    async with engines.reader.connect() as conn:
        return [r[0] for r in (await conn.execute(stmt, {"p": prefix + "%"})).all()]


async def table_exists(engines: Engines, name: str) -> bool:
    """Whether table ``name`` exists (the tools read tables other issues may not have built)."""
    async with engines.reader.connect() as conn:
        return bool(await conn.run_sync(lambda c: c.dialect.has_table(c, name)))


def _raw_by_position(*values: Any) -> RawEvent:
    return RawEvent(*values)


_new_raw: Any = fast_constructor(RawEvent) or _raw_by_position
