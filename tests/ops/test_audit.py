"""``audit``: a healthy store passes; each seeded fault is named by its check."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from adapters.ops.audit import audit
from adapters.ops.findings import AuditReport
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import Metadata, NewEvent
from events.codec import encode_payload
from events.conversation import ReplyKind, ReplyQueued
from events.whatsapp import MessageReceived
from tests.conftest import person_stream
from tests.ops.conftest import ANNA, BRUNO, Service

pytestmark = pytest.mark.integration
NO_GRACE = timedelta(0)


async def _audit(store: EventStore) -> AuditReport:
    return await audit(store, grace=NO_GRACE)


def _checks(report: AuditReport) -> set[str]:
    return {f.check for f in report.findings}


async def _execute(store: EventStore, sql: str, **params: object) -> None:
    async with store.engines.writer.begin() as conn:
        await conn.execute(text(sql), params)


async def _position(store: EventStore, stream: str, type_name: str) -> int:
    return next(e.position for e in await store.read_stream(stream) if e.type == type_name)


async def test_healthy_store_passes(journeys: Service) -> None:
    """Three recorded journeys: no finding, every event read."""
    report = await _audit(journeys.store)
    assert report.findings == []
    assert report.ok
    assert report.events == await journeys.store.last_position()


async def test_deleted_projection_row_is_named(journeys: Service) -> None:
    """A conversation row deleted from the read table is reported missing."""
    await _execute(journeys.store, "DELETE FROM whatsapp_conversations WHERE phone = :p", p=BRUNO)
    report = await _audit(journeys.store)
    [finding] = report.findings
    assert finding.check == "projections"
    assert "whatsapp_conversations row" in finding.message
    assert "is missing" in finding.message


async def test_altered_projection_row_is_named_with_its_column(journeys: Service) -> None:
    """A stage changed behind the projection's back is reported with both values."""
    await _execute(journeys.store, "UPDATE whatsapp_conversations SET stage = 'resolved'")
    report = await _audit(journeys.store)
    assert _checks(report) == {"projections"}
    assert all("stage: live 'resolved'" in f.message for f in report.findings)


async def test_tampered_event_is_named_by_the_hash_chain(journeys: Service) -> None:
    """UPDATE of one event's data column: the chain names that position."""
    store = journeys.store
    position = await _position(store, person_stream(ANNA), MessageReceived.TYPE)
    [row] = await store.read_all(position - 1, 1)
    data = {**encode_payload(row.payload), "text": "Vorrei 20 crocchette per cane"}
    await _execute(
        store, "UPDATE events SET data = :d WHERE position = :p", d=json.dumps(data), p=position
    )
    report = await _audit(store)
    chain = [f.message for f in report.findings if f.check == "hash_chain"]
    assert chain == [
        f"position {position} ({person_stream(ANNA)} v{row.version}) does not match its sealed"
        " hash (tampered?)"
    ]


async def test_queued_reply_without_outcome_is_named(journeys: Service) -> None:
    """A ReplyQueued with no sent/failed/reconciled outcome and not parked is a finding."""
    store = journeys.store
    queued = ReplyQueued(outbound_id="out-lost-1", to=BRUNO, kind=ReplyKind.TEXT, text="Ciao")
    new = NewEvent(event_id=uuid.uuid4(), payload=queued, metadata=Metadata(source="test"))
    await store.append(person_stream(BRUNO), Expect.ANY, [new])
    await journeys.catch_up()
    report = await _audit(store)
    [finding] = report.findings
    assert finding.check == "outbox"
    assert "reply out-lost-1 queued at position" in finding.message


async def test_recent_queued_reply_is_in_flight_not_a_finding(journeys: Service) -> None:
    """Within the grace period a reply without outcome is still being sent."""
    store = journeys.store
    queued = ReplyQueued(outbound_id="out-new-1", to=BRUNO, kind=ReplyKind.TEXT, text="Ciao")
    new = NewEvent(event_id=uuid.uuid4(), payload=queued)
    await store.append(person_stream(BRUNO), Expect.ANY, [new])
    await journeys.catch_up()
    assert (await audit(store, grace=timedelta(minutes=5))).ok


async def test_gap_in_stream_versions_is_named(journeys: Service) -> None:
    """Deleting one event of a stream leaves a version gap that audit names."""
    store = journeys.store
    stream = person_stream(ANNA)
    await _execute(store, "DELETE FROM events WHERE stream = :s AND version = 2", s=stream)
    report = await _audit(store)
    versions = [f.message for f in report.findings if f.check == "versions"]
    assert len(versions) == 1
    assert versions[0].startswith(f"{stream}: 1 version(s) missing")
    gone = [f.message for f in report.findings if f.check == "hash_chain"]
    assert gone == [f"position {_v2(report)} ({stream} v2) was sealed but the row is gone"]


def _v2(report: AuditReport) -> str:
    [message] = [f.message for f in report.findings if "row is gone" in f.message]
    return message.split()[1]


async def test_duplicate_wamid_is_named(journeys: Service) -> None:
    """The same inbound wamid recorded twice (under two event ids) is a finding."""
    store = journeys.store
    [first] = [
        e for e in await store.read_stream(person_stream(BRUNO)) if e.type == MessageReceived.TYPE
    ]
    await store.append(
        first.stream, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=first.payload)]
    )
    await journeys.catch_up()
    report = await _audit(store)
    assert [f.message for f in report.findings if f.check == "wamids"] == [
        f"inbound wamid {first.payload.wamid} is recorded 2 times"
    ]


async def test_corrupt_row_is_named_and_the_audit_goes_on(journeys: Service) -> None:
    """A row that no longer decodes is named; the other rows are still checked."""
    store = journeys.store
    position = await _position(store, person_stream(BRUNO), MessageReceived.TYPE)
    await _execute(store, "UPDATE events SET data = '[]' WHERE position = :p", p=position)
    report = await _audit(store)
    assert any(f.check == "decode" and f"position {position}" in f.message for f in report.findings)
    assert report.events == await store.last_position()
