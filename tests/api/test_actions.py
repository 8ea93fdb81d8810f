"""Agent actions through the pure core: take over, release, resolve, reply via the outbox."""

from __future__ import annotations

import asyncio

import pytest

from events.conversation import ReplyQueued, Sender
from tests.api.conftest import CUSTOMER, Api, cid, days_ago
from tests.conftest import person_stream

pytestmark = pytest.mark.e2e


def conv() -> str:
    """The customer's conversation resource."""
    return f"/api/conversations/{cid(CUSTOMER)}"


async def test_take_over_opens_the_conversation_for_the_agent(talked: Api) -> None:
    """take-over records AgentTookOver; the row shows stage open and the assignee."""
    resp = await talked.post(f"{conv()}/take-over", who="support")
    assert resp.status == 200
    body = await resp.json()
    assert (body["stage"], body["assignee"]) == ("open", "support")
    assert [e["type"] for e in body["events"]] == ["conversation.agent_took_over"]
    await talked.settle()
    row = await talked.json(conv())
    assert (row["stage"], row["assignee"]) == ("open", "support")


async def test_take_over_twice_by_the_same_agent_records_nothing(talked: Api) -> None:
    """Taking over what one already owns is a no-op, not an error."""
    await talked.post(f"{conv()}/take-over")
    resp = await talked.post(f"{conv()}/take-over")
    assert resp.status == 200
    assert (await resp.json())["events"] == []


async def test_release_without_take_over_is_409(talked: Api) -> None:
    """The core refuses an illegal move; the message says which."""
    resp = await talked.post(f"{conv()}/release")
    assert resp.status == 409
    assert "release" in (await resp.json())["error"]


async def test_release_hands_back_to_the_bot(talked: Api) -> None:
    """take-over then release: stage pending, no assignee."""
    await talked.post(f"{conv()}/take-over")
    resp = await talked.post(f"{conv()}/release")
    assert resp.status == 200
    body = await resp.json()
    assert (body["stage"], body["assignee"]) == ("pending", None)


async def test_resolve_closes_and_a_second_resolve_is_409(talked: Api) -> None:
    """resolve moves to resolved; resolving a resolved conversation is illegal."""
    resp = await talked.post(f"{conv()}/resolve")
    assert resp.status == 200
    assert (await resp.json())["stage"] == "resolved"
    assert (await talked.post(f"{conv()}/resolve")).status == 409


async def test_reply_goes_out_through_the_outbox(talked: Api) -> None:
    """An agent reply is queued with sender agent and the sandbox delivers it."""
    async with talked.deps.sandbox.subscription() as sent:
        resp = await talked.post(
            f"{conv()}/reply", json={"text": "Sono Marta, come posso aiutarla?"}
        )
        assert resp.status == 202, await resp.text()
        body = await resp.json()
        delivered = await asyncio.wait_for(sent.get(), 10)
    assert delivered.message.to == CUSTOMER
    assert delivered.payload["text"]["body"] == "Sono Marta, come posso aiutarla?"
    stream = await talked.deps.store.read_stream(person_stream(CUSTOMER))
    [queued] = [
        e.payload
        for e in stream
        if isinstance(e.payload, ReplyQueued) and e.payload.outbound_id == body["outbound_id"]
    ]
    assert (queued.sender, queued.agent) == (Sender.AGENT, "admin")
    assert body["stage"] == "open"  # replying takes the conversation over


@pytest.mark.parametrize("body", [b"not json", b"[]", b"{}", b'{"text": "   "}', b'{"text": 3}'])
async def test_reply_with_a_bad_body_is_422(talked: Api, body: bytes) -> None:
    """The body must be a JSON object with some text."""
    resp = await talked.post(f"{conv()}/reply", data=body)
    assert resp.status == 422
    assert "text" in (await resp.json())["error"]


async def test_reply_longer_than_whatsapp_allows_is_422(talked: Api) -> None:
    """Text over 4096 characters is refused before anything is recorded."""
    resp = await talked.post(f"{conv()}/reply", json={"text": "x" * 4097})
    assert resp.status == 422


async def test_reply_outside_the_24_hour_window_is_409_with_a_template_hint(api: Api) -> None:
    """A customer silent for two days can only get a template."""
    await api.say_at(CUSTOMER, "Ciao", days_ago(2))
    await api.settle()
    resp = await api.post(f"{conv()}/reply", json={"text": "Ci siamo!"})
    assert resp.status == 409
    body = await resp.json()
    assert "template" in body["error"]
    assert "template" in body["hint"]


async def test_actions_on_an_unknown_conversation_are_404(api: Api) -> None:
    """Every action answers 404 for an id that does not exist."""
    for action in ("take-over", "release", "resolve", "reply"):
        resp = await api.post(f"/api/conversations/nope/{action}", json={"text": "hi"})
        assert resp.status == 404, action
