"""Conversation reads: list with filters and cursor pages, one row, messages, timeline."""

from __future__ import annotations

import pytest

from tests.api.conftest import CUSTOMER, DEALER_A, DEALER_B, Api, cid
from tests.conftest import person_stream

pytestmark = pytest.mark.e2e


async def test_list_shows_every_conversation_to_staff(talked: Api) -> None:
    """Support sees the customer and both dealers, newest message first."""
    page = await talked.json("/api/conversations", who="support")
    ids = [c["id"] for c in page["items"]]
    assert set(ids) == {cid(CUSTOMER), cid(DEALER_A), cid(DEALER_B)}
    stamps = [c["last_message_at"] for c in page["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert page["next_cursor"] is None


async def test_list_filters_by_type_stage_and_text(talked: Api) -> None:
    """type, stage and q narrow the list."""
    dealers = await talked.json("/api/conversations?type=dealer")
    assert {c["phone"] for c in dealers["items"]} == {DEALER_A, DEALER_B}
    customers = await talked.json("/api/conversations?type=customer&stage=pending")
    assert [c["phone"] for c in customers["items"]] == [CUSTOMER]
    found = await talked.json("/api/conversations?q=NEGOZIO%20b")
    assert [c["phone"] for c in found["items"]] == [DEALER_B]


async def test_list_filters_by_assignee(talked: Api) -> None:
    """After a take-over the assignee filter finds the conversation."""
    resp = await talked.post(f"/api/conversations/{cid(CUSTOMER)}/take-over", who="support")
    assert resp.status == 200
    await talked.settle()
    page = await talked.json("/api/conversations?assignee=support")
    assert [c["id"] for c in page["items"]] == [cid(CUSTOMER)]


async def test_cursor_pages_cover_the_list_once(talked: Api) -> None:
    """limit=2 gives two pages with every conversation exactly once."""
    first = await talked.json("/api/conversations?limit=2")
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    second = await talked.json(f"/api/conversations?limit=2&cursor={first['next_cursor']}")
    assert second["next_cursor"] is None
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert sorted(ids) == sorted({cid(CUSTOMER), cid(DEALER_A), cid(DEALER_B)})


@pytest.mark.parametrize(
    "query",
    [
        "cursor=not-a-cursor",
        "cursor=WzEsMl0",  # base64 of [1,2]: well-formed, not ours
        "stage=sleeping",
        "type=robot",
        "limit=0",
        "limit=201",
        "limit=many",
        "colour=red",
        "q=",
    ],
)
async def test_bad_list_parameters_are_422(api: Api, query: str) -> None:
    """Bad cursors, filters and limits answer 422 with a message."""
    resp = await api.get(f"/api/conversations?{query}")
    assert resp.status == 422, query
    body = await resp.json()
    assert body["status"] == 422
    assert body["error"]


async def test_one_conversation_by_id(talked: Api) -> None:
    """The row carries phone, type, stage and history."""
    row = await talked.json(f"/api/conversations/{cid(CUSTOMER)}")
    assert row["phone"] == CUSTOMER
    assert row["conversation_type"] == "customer"
    assert row["context"]["history"][0]["text"] == "Buongiorno!"


async def test_unknown_conversation_is_404(api: Api) -> None:
    """Every conversation route answers 404 for an unknown id."""
    for suffix in ("", "/messages", "/timeline"):
        resp = await api.get(f"/api/conversations/nope{suffix}")
        assert resp.status == 404, suffix


async def test_messages_in_order_with_the_bot_reply(talked: Api) -> None:
    """The customer's message, then the bot's reply, with direction and status."""
    page = await talked.json(f"/api/conversations/{cid(CUSTOMER)}/messages")
    rows = [(m["direction"], m["content"]) for m in page["items"]]
    assert rows[0] == ("inbound", "Buongiorno!")
    assert rows[1][0] == "outbound"


async def test_messages_paginate(talked: Api) -> None:
    """limit=1 pages through the messages one by one."""
    first = await talked.json(f"/api/conversations/{cid(CUSTOMER)}/messages?limit=1")
    second = await talked.json(
        f"/api/conversations/{cid(CUSTOMER)}/messages?limit=1&cursor={first['next_cursor']}"
    )
    assert first["items"][0]["id"] != second["items"][0]["id"]


async def test_timeline_lists_every_event_with_data(talked: Api) -> None:
    """The audit view: positions ascending, types, times and JSON data."""
    body = await talked.json(f"/api/conversations/{cid(CUSTOMER)}/timeline")
    assert body["stream"] == person_stream(CUSTOMER)
    events = body["events"]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions)
    types = [e["type"] for e in events]
    assert types[0] == "whatsapp.message_received"
    assert "conversation.reply_queued" in types
    assert events[0]["data"]["text"] == "Buongiorno!"
    assert events[0]["recorded_at"]


async def test_timeline_pages_by_version(talked: Api) -> None:
    """limit and after walk the stream in pieces."""
    path = f"/api/conversations/{cid(CUSTOMER)}/timeline"
    first = await talked.json(f"{path}?limit=1")
    assert len(first["events"]) == 1
    rest = await talked.json(f"{path}?after={first['next_after']}")
    assert rest["events"][0]["version"] == 2


async def test_timeline_rejects_a_bad_after(api: Api) -> None:
    """after must be a whole number."""
    resp = await api.get(f"/api/conversations/{cid(CUSTOMER)}/timeline?after=-1")
    assert resp.status == 422
