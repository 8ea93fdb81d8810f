"""Erasure by crypto-shredding: no trace of the person left, the log still replays."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor
from adapters.engine.outbox import OutboxSender
from adapters.ingest import Ingestor
from adapters.ops.audit import audit
from adapters.ops.erase import erase_person
from adapters.ops.replay import replay
from adapters.ops.targets import TargetError
from adapters.ops.whatif import what_if
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import rebuild
from adapters.readmodel.tables import TABLES
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.web.simulate import text_delivery
from events.base import ERASED
from events.conversation import ReplyQueued
from events.whatsapp import MessageReceived, WebhookReceived
from tests.ops.conftest import BRUNO, Service

pytestmark = pytest.mark.integration

DORA = "+393209876543"
DORA_NAME = "Dorotea Quagliarella"
DORA_TEXT = "vorrei 2 crocchette per cane, consegna in via Zamboni 33"
SPELLINGS = ("+393209876543", "393209876543", "3209876543", "320 987 6543", "320-987-6543")


async def _dora_writes(service: Service, text: str = DORA_TEXT) -> None:
    committer = GroupCommitter(service.store)
    await committer.start()
    try:
        doc = text_delivery(DORA.removeprefix("+"), text, name=DORA_NAME)
        await Ingestor(committer).ingest(json.dumps(doc).encode())
    finally:
        await committer.close()
    stream = await service.store.people.stream_of(f"conversation-{DORA}")

    await ConversationReactor(service.store, OfflineAssistant(), lambda: load_catalog(None)).handle(
        stream, []
    )
    queued = [
        e for e in await service.store.read_stream(stream) if isinstance(e.payload, ReplyQueued)
    ]
    await OutboxSender(service.store, service.sandbox).handle(stream, queued)
    await service.catch_up()


async def _tables(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    out = {}
    async with store.engines.reader.connect() as conn:
        for name, table in sorted(TABLES.items()):
            pk = list(table.primary_key.columns)
            rows = (await conn.execute(select(table).order_by(*pk))).mappings().all()
            out[name] = [dict(r) for r in rows]
    return out


def _files(store: EventStore) -> list[Path]:
    database = store.engines.writer.url.database
    assert database is not None
    main = Path(database)
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if p.exists()]


async def test_stored_fields_are_sealed_from_the_start(journeys: Service) -> None:
    """Before any erasure the database holds neither the phone nor the text in clear."""
    await _dora_writes(journeys)
    stream = await journeys.store.people.stream_of(f"conversation-{DORA}")
    assert DORA not in stream
    [msg] = [
        e.payload
        for e in await journeys.store.read_stream(stream)
        if isinstance(e.payload, MessageReceived)
    ]
    assert (msg.phone, msg.profile_name, msg.text) == (DORA, DORA_NAME, DORA_TEXT)
    async with journeys.store.engines.reader.connect() as conn:
        data = " ".join(r[0] for r in (await conn.execute(text("SELECT data FROM events"))).all())
        streams = " ".join(
            r[0] for r in (await conn.execute(text("SELECT stream FROM events"))).all()
        )
    for secret in ("3209876543", DORA_NAME, "via Zamboni"):
        assert secret not in data
        assert secret not in streams


async def test_erase_leaves_no_trace_and_the_log_still_replays(journeys: Service) -> None:
    """Phone, name and text gone byte-wise; replay, audit, rebuild and others intact."""
    store = journeys.store
    await _dora_writes(journeys)
    old_stream = await store.people.stream_of(f"conversation-{DORA}")
    bruno_stream = await store.people.stream_of(f"conversation-{BRUNO}")

    report = await erase_person(store, "+39 320 987 6543")
    assert report.stream == old_stream

    if store.dialect == "sqlite":  # the file, its WAL and shared memory, byte for byte
        blob = b"".join(p.read_bytes() for p in _files(store))
        for secret in (*SPELLINGS, DORA_NAME, DORA_TEXT, "Zamboni"):
            assert secret.encode() not in blob, secret
    # the log still decodes and replays; the personal fields read as erased
    history = await store.read_stream(old_stream)
    [msg] = [e.payload for e in history if isinstance(e.payload, MessageReceived)]
    assert (msg.phone, msg.profile_name, msg.text, msg.wa_id) == (ERASED,) * 4
    assert msg.kind == "text"
    assert msg.wamid.startswith("wamid.")
    bodies = [e for e in await store.read_all(0, 10_000) if isinstance(e.payload, WebhookReceived)]
    assert ERASED in {b.payload.body for b in bodies}
    result = await replay(store, old_stream)
    assert result.steps
    assert not result.differences
    assert (await audit(store, grace=timedelta(0))).findings == []
    assert (await what_if(store, OfflineAssistant(), load_catalog(None))).differences == []
    # rebuilding the read tables gives exactly the scrubbed live rows
    live = await _tables(store)
    for projection in all_projections():
        await rebuild(store, projection)
    assert await _tables(store) == live
    assert DORA_NAME not in json.dumps(live, default=str)
    # another person is untouched and readable
    texts = [
        e.payload.text
        for e in await store.read_stream(bruno_stream)
        if isinstance(e.payload, MessageReceived)
    ]
    assert texts == ["Il mio ordine non è mai arrivato, voglio un rimborso"]
    # the same phone writing again is a new person
    await _dora_writes(journeys, "sono di nuovo io")
    new_stream = await store.people.stream_of(f"conversation-{DORA}")
    assert new_stream != old_stream
    [again] = [
        e.payload
        for e in await store.read_stream(new_stream)
        if isinstance(e.payload, MessageReceived)
    ]
    assert (again.phone, again.text) == (DORA, "sono di nuovo io")


async def test_erase_refuses_an_unknown_phone(journeys: Service) -> None:
    """Nothing held for the number: a clear error, and nobody else's data is touched."""
    before = await _tables(journeys.store)
    with pytest.raises(TargetError, match="no person"):
        await erase_person(journeys.store, "+393330000000")
    assert await _tables(journeys.store) == before
