"""``/api/stream`` read by a real HTTP client: live frames, resume, heartbeats, dealer filter."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.web.api.common import STREAM_OPTIONS
from tests.api.conftest import CUSTOMER, DEALER_A, Api
from tests.conftest import person_stream

pytestmark = pytest.mark.e2e


async def next_frame(resp: ClientResponse) -> dict[str, Any]:
    """The next SSE frame: its fields, ``data`` parsed; comments under ``comment``."""
    fields: dict[str, Any] = {}
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 10)).decode().rstrip("\n")
        if not line:
            if fields:
                return fields
            continue
        name, _, value = line.partition(":")
        fields[name or "comment"] = value.strip()
        if name == "data":
            fields["data"] = json.loads(value)


async def frame_of(resp: ClientResponse, event: str, phone: str) -> dict[str, Any]:
    """Skip frames until one of type ``event`` in ``phone``'s conversation."""
    while True:
        frame = await next_frame(resp)
        if frame.get("event") == event and frame["data"]["stream"] == person_stream(phone):
            return frame


async def test_a_new_message_arrives_live_with_its_position_as_id(api: Api) -> None:
    """Connect first, then a customer writes: the frame carries id = global position."""
    resp = await api.get("/api/stream", who="support")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert (await next_frame(resp))["retry"] == "3000"
    await api.say(CUSTOMER, "Ciao, ci siete?")
    frame = await frame_of(resp, "whatsapp.message_received", CUSTOMER)
    assert int(frame["id"]) == frame["data"]["position"]
    assert frame["data"]["data"]["text"] == "Ciao, ci siete?"
    resp.close()


async def test_last_event_id_resumes_after_that_position(talked: Api) -> None:
    """With Last-Event-ID the stream replays what came after it, in order."""
    resp = await talked.get("/api/stream", headers={"Last-Event-ID": "0"})
    await next_frame(resp)  # retry hint
    first = await next_frame(resp)
    second = await next_frame(resp)
    resp.close()
    resumed = await talked.get("/api/stream", headers={"Last-Event-ID": first["id"]})
    await next_frame(resumed)
    assert (await next_frame(resumed))["id"] == second["id"]
    resumed.close()


async def test_heartbeat_comments_keep_a_quiet_stream_alive(api: Api) -> None:
    """With nothing happening a comment line arrives every heartbeat interval."""
    api.client.app[STREAM_OPTIONS].heartbeat = 0.05
    resp = await api.get("/api/stream")
    await next_frame(resp)
    assert (await next_frame(resp))["comment"] == "heartbeat"
    resp.close()


async def test_a_dealer_stream_carries_only_its_own_conversation(talked: Api) -> None:
    """Replaying from 0, dealer A sees its own message and none of the others'."""
    resp = await talked.get("/api/stream", who="dealer_a", headers={"Last-Event-ID": "0"})
    await next_frame(resp)
    frame = await next_frame(resp)
    resp.close()
    assert frame["event"] == "whatsapp.message_received"
    assert frame["data"]["stream"] == person_stream(DEALER_A)  # the customer wrote first


async def test_a_bad_last_event_id_is_422(api: Api) -> None:
    """Last-Event-ID must be a global position."""
    resp = await api.get("/api/stream", headers={"Last-Event-ID": "yesterday"})
    assert resp.status == 422
