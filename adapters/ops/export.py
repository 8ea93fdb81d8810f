"""``dloop-bot export --phone``: everything held about one person, as one JSON document.

* ``events``: their conversation stream, every event with its stored data and metadata;
* ``webhook_bodies``: every recorded delivery sealed for them or mentioning their number
  (their messages, statuses of our replies to them, contact cards others shared);
* ``related_events``: events of other streams whose data mentions their number (order
  relays, dealers' messages, ...);
* ``rows``: every read-table row keyed to them (phone, conversation id or stream).

The number is searched in its international digits, which is how Meta writes it in
bodies (``wa_id``) and a substring of the E.164 form our events use.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ops.rawlog import SELECT_EVENTS, RawEvent, load_keys, raw_event, read_stream
from adapters.ops.targets import parse_phone, phone_stream
from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore
from adapters.store.people import open_sealed
from events.codec import SEALED
from events.whatsapp import WebhookReceived
from projections.messages import conversation_id

_MENTIONS = text(
    SELECT_EVENTS + " WHERE stream <> :stream AND (data LIKE :digits OR data LIKE :person)"
    " ORDER BY position"
)


async def export_person(
    store: EventStore, phone: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The export document for ``phone`` (any usual spelling); raises TargetError."""
    stream = await phone_stream(store, phone)
    e164 = parse_phone(phone)
    digits = e164.removeprefix("+")
    person = stream.removeprefix("conversation-")  # their person id (or, before them, e164)
    cid = conversation_id(stream)
    own = await read_stream(store.engines, stream)
    async with store.engines.reader.connect() as conn:
        params = {"stream": stream, "digits": f"%{digits}%", "person": f'%"{person}"%'}
        found = await conn.execute(_MENTIONS, params)
        mentions = [raw_event(r) for r in found.all()]
        await load_keys(store.engines, mentions)
        rows = {}
        for table in TABLES.values():
            matched = await _rows(conn, table, (e164, digits, person), cid, stream)
            if matched:
                rows[table.name] = matched
    return {
        "subject": {"phone": e164, "stream": stream, "conversation_id": cid},
        "exported_at": (now or datetime.now(UTC)).isoformat(),
        "events": [_event(r) for r in own],
        "webhook_bodies": [_event(r) for r in mentions if r.type == WebhookReceived.TYPE],
        "related_events": [_event(r) for r in mentions if r.type != WebhookReceived.TYPE],
        "rows": rows,
    }


async def _rows(
    conn: AsyncConnection, table: Table, phones: tuple[str, ...], cid: str, stream: str
) -> list[dict[str, Any]]:
    tests: list[ColumnElement[bool]] = []
    if "phone" in table.c:
        tests.append(table.c.phone.in_(phones))
    if "conversation_id" in table.c:
        tests.append(table.c.conversation_id == cid)
    if "stream" in table.c:
        tests.append(table.c.stream == stream)
    if table.name == "whatsapp_conversations":
        tests.append(table.c.id == cid)
    if not tests:
        return []
    found = (await conn.execute(select(table).where(or_(*tests)))).mappings().all()
    return [{k: _jsonable(v) for k, v in r.items()} for r in found]


def _event(row: RawEvent) -> dict[str, Any]:
    try:
        data: Any = json.loads(row.data)
    except ValueError:
        data = row.data  # an unreadable row is exported as stored
    if type(data) is dict and SEALED in data:  # their own fields, opened for them
        with contextlib.suppress(ValueError):  # an unreadable seal is exported as stored
            data = open_sealed(row.type, data)
    return {
        "position": row.position,
        "event_id": str(row.event_id),
        "stream": row.stream,
        "version": row.version,
        "type": row.type,
        "schema_version": row.schema_version,
        "recorded_at": row.recorded_at.isoformat(),
        "data": data,
        "metadata": row.json_metadata(),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value
