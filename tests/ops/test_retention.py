"""``retention``: old raw bodies go, parsed facts and the audit's verdict stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from adapters.ops.audit import audit
from adapters.ops.retention import STREAM, drop_raw_bodies
from adapters.store.event_store import EventStore
from events.ops import RawBodyDropped
from events.whatsapp import MessageReceived, WebhookReceived
from tests.ops.conftest import Service

pytestmark = pytest.mark.integration
LATER = datetime.now(UTC) + timedelta(days=91)  # every journey is then past 90 days


async def _of_type(store: EventStore, cls: type[object]) -> list[object]:
    events = await store.read_all(0, 10_000)
    return [e.payload for e in events if isinstance(e.payload, cls)]


async def test_bodies_go_and_facts_stay(journeys: Service) -> None:
    """After the run no delivery holds its body; every message fact is still there."""
    store = journeys.store
    facts_before = await _of_type(store, MessageReceived)
    report = await drop_raw_bodies(store, days=90, now=LATER)
    assert report.bodies == len(facts_before) == 5
    deliveries = await _of_type(store, WebhookReceived)
    assert {(d.body, d.body_b64) for d in deliveries} == {("", None)}  # type: ignore[attr-defined]
    assert all(len(d.body_sha256) == 64 for d in deliveries)  # type: ignore[attr-defined]
    assert await _of_type(store, MessageReceived) == facts_before


async def test_each_batch_is_announced_in_the_retention_stream(journeys: Service) -> None:
    """One RawBodyDropped per batch names exactly the rewritten rows."""
    report = await drop_raw_bodies(journeys.store, days=90, now=LATER, batch_size=2)
    announced = [e.payload for e in await journeys.store.read_stream(STREAM)]
    assert report.batches == len(announced) == 3
    assert all(isinstance(a, RawBodyDropped) for a in announced)
    assert [p for a in announced for p in a.positions] == report.positions


async def test_audit_still_passes_after_retention(journeys: Service) -> None:
    """Dropped bodies are neither tampering for the chain nor digest mismatches."""
    await drop_raw_bodies(journeys.store, days=90, now=LATER)
    await journeys.catch_up()
    report = await audit(journeys.store)
    assert report.findings == []


async def test_dry_run_counts_and_changes_nothing(journeys: Service) -> None:
    """A dry run reports the bodies it would drop and leaves every row as it was."""
    before = await journeys.store.read_all(0, 10_000)
    report = await drop_raw_bodies(journeys.store, days=90, now=LATER, dry_run=True)
    assert report.bodies == 5
    assert report.bytes > 0
    assert await journeys.store.read_all(0, 10_000) == before


async def test_recent_bodies_are_kept(journeys: Service) -> None:
    """Deliveries younger than the retention keep their bodies."""
    report = await drop_raw_bodies(journeys.store, days=90)
    assert report.bodies == 0
    assert all(d.body for d in await _of_type(journeys.store, WebhookReceived))  # type: ignore[attr-defined]


async def test_second_run_finds_nothing_left(journeys: Service) -> None:
    """Retention is idempotent: a rerun drops nothing and announces nothing."""
    await drop_raw_bodies(journeys.store, days=90, now=LATER)
    again = await drop_raw_bodies(journeys.store, days=90, now=LATER)
    assert again.bodies == 0
    assert len(await journeys.store.read_stream(STREAM)) == 1


async def test_a_retention_under_one_day_is_refused(store: EventStore) -> None:
    """Zero days would drop every body at once: refused with a clear message."""
    with pytest.raises(ValueError, match="at least 1 day"):
        await drop_raw_bodies(store, days=0)


async def test_emptied_body_without_announcement_is_named_by_audit(journeys: Service) -> None:
    """A body blanked by hand (no RawBodyDropped) is reported, not excused."""
    store = journeys.store
    first = next(e for e in await store.read_all(0, 10_000) if e.type == WebhookReceived.TYPE)
    async with store.engines.writer.begin() as conn:
        stored = (
            await conn.execute(
                text("SELECT data FROM events WHERE position = :p"), {"p": first.position}
            )
        ).scalar_one()
        data = json.loads(stored)
        assert data.pop("~")  # the body is sealed for its people (ADR 0007): drop it by hand
        blank = json.dumps({**data, "body": "", "body_b64": None}, separators=(",", ":"))
        await conn.execute(
            text("UPDATE events SET data = :data WHERE position = :p"),
            {"data": blank, "p": first.position},
        )
    report = await audit(store)
    assert [f.check for f in report.findings] == ["webhook_bodies"]
