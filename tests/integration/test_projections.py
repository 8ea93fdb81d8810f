"""Projections over real webhook facts: live tables equal a rebuild from position 0."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from adapters.ingest import Ingestor
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import ProjectionsRunner, rebuild, runner_for
from adapters.readmodel.tables import whatsapp_conversations, whatsapp_messages
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.web.simulate import text_delivery


def _status(wamid: str, state: str, ts: int, outbound_id: str | None = None) -> bytes:
    status: dict[str, Any] = {
        "id": wamid,
        "status": state,
        "timestamp": str(ts),
        "recipient_id": "393281234567",
    }
    if outbound_id:
        status["biz_opaque_callback_data"] = outbound_id
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1"},
        "statuses": [status],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "W", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def _ingest(store: EventStore, bodies: list[bytes]) -> None:
    committer = GroupCommitter(store)
    await committer.start()
    try:
        ingestor = Ingestor(committer, clock=lambda: datetime(2026, 11, 27, 10, tzinfo=UTC))
        for body in bodies:
            await ingestor.ingest(body)
    finally:
        await committer.close()


async def _tables(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    out = {}
    async with store.engines.reader.connect() as conn:
        for table in (whatsapp_conversations, whatsapp_messages):
            rows = (await conn.execute(select(table).order_by(table.c.id))).mappings().all()
            out[table.name] = [dict(r) for r in rows]
    return out


def _text(text: str, wamid: str) -> bytes:
    doc = text_delivery("393281234567", text)
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = wamid
    return json.dumps(doc).encode()


async def test_inbound_messages_build_conversation_and_message_rows(store: EventStore) -> None:
    """Two texts: one conversation with count 2 and history, two message rows."""
    await _ingest(store, [_text("Ciao", "wamid.A"), _text("Vorrei una lettiera", "wamid.B")])
    for projection in all_projections():
        await runner_for(store, projection).catch_up()
    tables = await _tables(store)
    [conversation] = tables["whatsapp_conversations"]
    assert conversation["message_count"] == 2
    assert conversation["phone"] == "+393281234567"
    assert [h["text"] for h in conversation["context"]["history"]] == [
        "Ciao",
        "Vorrei una lettiera",
    ]
    assert sorted(m["content"] for m in tables["whatsapp_messages"]) == [
        "Ciao",
        "Vorrei una lettiera",
    ]


async def test_status_before_its_message_still_ends_in_the_latest_state(store: EventStore) -> None:
    """read arrives before delivered: the row stays read; status rows merge by our id."""
    await _ingest(
        store,
        [
            _status("wamid.OUT", "read", 200, "out-1"),
            _status("wamid.OUT", "delivered", 100, "out-1"),
        ],
    )
    for projection in all_projections():
        await runner_for(store, projection).catch_up()
    [row] = (await _tables(store))["whatsapp_messages"]
    assert row["id"] == "out-1"
    assert row["status"] == "read"
    assert set(row["meta_response"]) == {"read", "delivered"}


async def test_rebuild_gives_tables_identical_to_the_live_ones(store: EventStore) -> None:
    """Live (incremental, small batches) and rebuilt tables are equal row for row."""
    bodies = [_text(f"messaggio {i}", f"wamid.{i}") for i in range(7)]
    bodies += [_status("wamid.3", "delivered", 50), _status("wamid.OUT", "sent", 60, "out-9")]
    await _ingest(store, bodies)
    for projection in all_projections():
        await runner_for(store, projection, batch_size=3).catch_up()
    live = await _tables(store)
    for projection in all_projections():
        report = await rebuild(store, projection)
        assert report.events > 0
    assert await _tables(store) == live


async def test_combined_runner_equals_rebuild_and_never_applies_twice(store: EventStore) -> None:
    """One transaction for all projections; re-running or rebuilding one does not double count."""
    await _ingest(store, [_text(f"m{i}", f"wamid.C{i}") for i in range(5)])
    runner = ProjectionsRunner(store, all_projections(), batch_size=2)
    await runner.catch_up()
    await _ingest(store, [_text("ultimo", "wamid.C9")])
    await runner.catch_up()
    await runner.catch_up()
    live = await _tables(store)
    assert live["whatsapp_conversations"][0]["message_count"] == 6
    await rebuild(store, all_projections()[0])
    await runner.catch_up()
    assert await _tables(store) == live
