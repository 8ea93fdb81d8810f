"""The phone and the name beside the person id, written with the rows of the seed tables.

Conversation streams are named by pseudonymous person ids (ADR 0007), so the pure
projections know a person's id but not their number. Before rows of
``whatsapp_conversations``, ``whatsapp_messages`` and ``whatsapp_order_relays`` are
written, :func:`identify` looks each ``person_id`` up in the :class:`People` directory and
writes the phone (E.164, or the BSUID for people known only by one) into ``phone``, or
:data:`ERASED` once the person is erased. WhatsApp gives the profile name on inbound
messages only: conversation rows and inbound message rows take it from there; an order
relay takes the one its customer's conversation row holds, and :func:`carry_names` hands a
newer name on to the person's relay rows when the conversation row changes, so live rows,
a rebuild and the audit's fresh fold agree whatever the batch boundaries were. Erasure
deletes the key and rebuilds the tables, so every row then reads ``[erased]``
(docs/adr/0013-read-side-people-and-search.md). The same step gives order relay rows
their delivery address (:mod:`adapters.readmodel.addresses`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.addresses import with_addresses
from adapters.readmodel.tables import whatsapp_conversations, whatsapp_order_relays
from adapters.store.people import People
from core.phones import is_person_id
from events.base import ERASED
from projections.base import Row, RowKey

PERSON_TABLES = frozenset({"whatsapp_conversations", "whatsapp_messages", "whatsapp_order_relays"})
NAMED_BY_CONVERSATION = "whatsapp_order_relays"
_CONVERSATIONS = "whatsapp_conversations"
_IN_LIMIT = 500


async def identify(
    conn: AsyncConnection, people: People, dirty: Mapping[RowKey, Row]
) -> dict[RowKey, Row]:
    """``dirty`` with ``phone`` (and a missing ``profile_name``) filled from the person id.

    Relay rows also get their cart's ``delivery_address`` (see ``readmodel.addresses``).
    """
    dirty = await with_addresses(conn, dirty)
    persons = {
        pid
        for key, row in dirty.items()
        if key.table in PERSON_TABLES and is_person_id(pid := str(row.get("person_id") or ""))
    }
    if not persons:
        return dict(dirty)
    await people.load(persons)
    phones = {pid: _phone(await people.subject_of(pid)) for pid in persons}
    names = await _names(conn, dirty, persons)
    out: dict[RowKey, Row] = {}
    for key, row in dirty.items():
        held = row.get("person_id") if key.table in PERSON_TABLES else None
        pid = str(held) if held else ""
        if pid not in phones:
            out[key] = row
            continue
        filled = dict(row)
        filled["phone"] = phones[pid]
        if key.table == NAMED_BY_CONVERSATION and not filled.get("profile_name") and pid in names:
            filled["profile_name"] = names[pid]
        out[key] = filled
    return out


def _phone(subject: str | None) -> str:
    """The number of a subject (``bsuid:`` keys keep the BSUID, as inbound rows do)."""
    if subject is None:
        return ERASED
    return subject.removeprefix("bsuid:")


async def _names(
    conn: AsyncConnection, dirty: Mapping[RowKey, Row], persons: set[str]
) -> dict[str, str]:
    """The profile names the conversation rows hold (this write's rows first)."""
    names: dict[str, str] = {}
    for key, row in dirty.items():
        if key.table == _CONVERSATIONS and row.get("profile_name"):
            names[str(row.get("person_id"))] = str(row["profile_name"])
    nameless = {
        r.get("person_id")
        for k, r in dirty.items()
        if k.table == NAMED_BY_CONVERSATION and not r.get("profile_name")
    }
    wanted = sorted(pid for pid in persons if pid not in names and pid in nameless)
    c = whatsapp_conversations.c
    for start in range(0, len(wanted), _IN_LIMIT):
        chunk = wanted[start : start + _IN_LIMIT]
        stmt = select(c.person_id, c.profile_name).where(
            c.person_id.in_(chunk), c.profile_name.is_not(None)
        )
        for pid, name in await conn.execute(stmt):
            names[str(pid)] = str(name)
    return names


async def carry_names(conn: AsyncConnection, written: Mapping[RowKey, Row]) -> None:
    """Give the person's order relay rows the name their conversation row now holds."""
    names = {
        str(row["person_id"]): str(row["profile_name"])
        for key, row in written.items()
        if key.table == _CONVERSATIONS and row.get("profile_name") and row.get("person_id")
    }
    if names:  # one statement, compiled once, executed for every person of the batch
        params = [{"b_person": pid, "b_name": name} for pid, name in names.items()]
        await conn.execute(_CARRY_NAME, params)


_RELAY = whatsapp_order_relays.c
_CARRY_NAME = (
    update(whatsapp_order_relays)
    .where(
        _RELAY.person_id == bindparam("b_person"),
        _RELAY.profile_name.is_distinct_from(bindparam("b_name")),
    )
    .values(profile_name=bindparam("b_name"))
)
