"""The review queue: escalations and failures appear, dismissals stick, even after a rebuild."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.readmodel.runner import rebuild
from events.base import Metadata, RecordedEvent
from events.engine import ParkedEventReprocessed, ReactorEventParked
from projections.review_queue import ReviewQueueProjection, parked_id
from tests.api.conftest import CUSTOMER, Api, cid
from tests.conftest import person_stream

pytestmark = pytest.mark.e2e
AT = datetime(2026, 11, 27, 10, tzinfo=UTC)


async def escalated(api: Api) -> dict[str, object]:
    """Make the customer ask for support and return the review item it opened."""
    await api.say(CUSTOMER, "Il mio ordine non è mai arrivato, voglio un rimborso", wait=5)
    await api.settle()
    page = await api.json("/api/review")
    [item] = page["items"]
    return dict(item)


async def test_an_escalation_opens_a_review_item(api: Api) -> None:
    """A support request escalates and lands on the queue, open."""
    item = await escalated(api)
    assert (item["kind"], item["status"]) == ("escalated", "open")
    assert item["conversation_id"] == cid(CUSTOMER)
    assert "support_request" in str(item["summary"])


async def test_dismiss_closes_the_item_and_filters_follow(api: Api) -> None:
    """After a dismiss the item is listed under dismissed, not open."""
    item = await escalated(api)
    resp = await api.post(f"/api/review/{item['id']}/dismiss", who="support")
    assert resp.status == 200
    body = await resp.json()
    assert (body["status"], body["dismissed_by"]) == ("dismissed", "support")
    assert (await api.json("/api/review?status=open"))["items"] == []
    dismissed = await api.json("/api/review?status=dismissed")
    assert [i["id"] for i in dismissed["items"]] == [item["id"]]


async def test_dismissing_twice_is_409_and_unknown_is_404(api: Api) -> None:
    """Only open items can be dismissed."""
    item = await escalated(api)
    assert (await api.post(f"/api/review/{item['id']}/dismiss")).status == 200
    again = await api.post(f"/api/review/{item['id']}/dismiss")
    assert again.status == 409
    assert (await api.post("/api/review/nope/dismiss")).status == 404


async def test_a_rebuild_keeps_dismissals(api: Api) -> None:
    """Dismissals live beside the projection, so rebuilding it does not reopen items."""
    item = await escalated(api)
    await api.post(f"/api/review/{item['id']}/dismiss")
    await rebuild(api.deps.store, ReviewQueueProjection())
    page = await api.json("/api/review")
    assert [(i["id"], i["status"]) for i in page["items"]] == [(item["id"], "dismissed")]


async def test_bad_review_filters_are_422(api: Api) -> None:
    """status must be open, dismissed or retried; cursors must be ours."""
    assert (await api.get("/api/review?status=closed")).status == 422
    assert (await api.get("/api/review?cursor=xyz")).status == 422


async def test_counters_count_open_items_and_conversations(api: Api) -> None:
    """The escalated conversation is open; the queue has one item; p50 is measured."""
    await escalated(api)
    counters = await api.json("/api/counters", who="support")
    assert counters["open_conversations"] == 1
    assert counters["review_queue"] == 1
    assert counters["failed_sends"] == 0
    assert isinstance(counters["assistant_latency_p50_ms"], float)


def recorded(payload: object, position: int) -> RecordedEvent:
    """A stored event around ``payload`` (for the pure projection)."""
    return RecordedEvent(
        position=position,
        event_id=uuid.uuid4(),
        stream="parked-conversation",
        version=position,
        type=type(payload).TYPE,  # type: ignore[attr-defined]
        schema_version=1,
        payload=payload,
        metadata=Metadata(),
        recorded_at=AT,
    )


def test_a_successful_re_drive_marks_a_parked_item_retried() -> None:
    """engine.parked_event_reprocessed(succeeded) turns the parked item into retried."""
    projection = ReviewQueueProjection()
    parked = recorded(
        ReactorEventParked(
            reactor="conversation",
            stream=person_stream(CUSTOMER),
            position=7,
            event_type="whatsapp.message_received",
            error="RuntimeError: boom",
        ),
        1,
    )
    [opened] = projection.project(parked, {})
    assert opened.values["id"] == parked_id("conversation", 7)
    assert (opened.values["kind"], opened.values["status"]) == ("parked", "open")
    assert opened.values["conversation_id"] == cid(CUSTOMER)
    redo = recorded(ParkedEventReprocessed(reactor="conversation", position=7, succeeded=True), 2)
    [done] = projection.project(redo, {opened.key: opened.values})
    assert done.values["status"] == "retried"


def test_a_failed_re_drive_leaves_the_item_open() -> None:
    """A re-drive that failed again changes nothing."""
    redo = recorded(ParkedEventReprocessed(reactor="outbox", position=3, succeeded=False), 2)
    projection = ReviewQueueProjection()
    [key] = projection.needs(redo)
    assert projection.project(redo, {key: {"id": "x", "status": "open"}}) == []
