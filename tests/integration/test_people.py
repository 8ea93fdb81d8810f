"""The person directory on each backend: one id per phone, keys behind a pluggable port."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from adapters.store.engine import Engines
from adapters.store.event_store import EventStore
from adapters.store.person_keys import MemoryKeyStore, person_keys
from adapters.store.types import Expect
from events.base import ERASED, NewEvent
from events.whatsapp import MessageReceived

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


def _message(phone: str, text: str) -> NewEvent:
    payload = MessageReceived(
        wamid=f"wamid.{uuid.uuid4().hex}", wa_id=phone[1:], phone=phone, bsuid=None,
        profile_name="Giulia Rossi", kind="text", text=text, sent_at=AT,
    )  # fmt: skip
    return NewEvent(event_id=uuid.uuid4(), payload=payload)


async def test_one_person_per_phone_and_back(store: EventStore) -> None:
    """The same phone maps to the same id (also from a second store); the id maps back."""
    pid = await store.people.person_of("+393281234567")
    assert await store.people.person_of("+393281234567") == pid
    other = EventStore(store.engines)
    other.people.forget_cached()
    assert await other.people.find("+393281234567") == pid
    assert await other.people.subject_of(pid) == "+393281234567"
    assert await store.people.stream_of("conversation-+393281234567") == f"conversation-{pid}"
    assert await store.people.stream_of("order-1") == "order-1"
    assert await store.people.subject_of("+393471112233") == "+393471112233"  # not a person id


async def test_keys_can_live_outside_the_database(engines: Engines) -> None:
    """A KeyStore passed to the store holds the keys: the person_keys table stays empty."""
    store = EventStore(engines, keys=MemoryKeyStore())
    stream = await store.people.stream_of("conversation-+393281234567")
    await store.append(stream, Expect.ANY, [_message("+393281234567", "Vorrei due pizze")])
    [event] = await store.read_stream(stream)
    assert (event.payload.phone, event.payload.text) == ("+393281234567", "Vorrei due pizze")
    async with engines.reader.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(person_keys))).scalar() == 0
    await store.people.erase(stream.removeprefix("conversation-"))
    store.people.forget_cached()
    [event] = await store.read_stream(stream)
    assert (event.payload.phone, event.payload.text, event.payload.kind) == (ERASED, ERASED, "text")


async def test_appending_for_an_erased_person_stores_nothing_personal(store: EventStore) -> None:
    """A late write for someone already erased keeps the facts and stores the fields erased."""
    stream = await store.people.stream_of("conversation-+393281234567")
    await store.people.erase(stream.removeprefix("conversation-"))
    await store.append(stream, Expect.ANY, [_message("+393281234567", "ancora io")])
    async with store.engines.reader.connect() as conn:
        from adapters.store.schema import events  # noqa: PLC0415

        [data] = (await conn.execute(select(events.c.data))).scalars()
    assert "ancora io" not in data
    assert "3281234567" not in data
    [event] = await store.read_stream(stream)
    assert event.payload.text == ERASED


async def test_new_people_arriving_together_are_created_once_each(store: EventStore) -> None:
    """Concurrent first messages: one id per phone, also for the same phone twice at once."""
    phones = [f"+3934700000{i:02d}" for i in range(40)]
    ids = await asyncio.gather(*(store.people.person_of(p) for p in [*phones, *phones]))
    assert ids[:40] == ids[40:]
    assert len(set(ids)) == 40
    other = EventStore(store.engines)  # a second process racing for the same phone
    other.people.forget_cached()
    assert await other.people.person_of(phones[0]) == ids[0]
    late = await other.people.keys.create(phones[1], "prs_" + "0" * 24, bytes(32))
    assert late[0] == ids[1]  # the row stored first wins; the late key is never used
    async with store.engines.reader.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(person_keys))).scalar() == 40
