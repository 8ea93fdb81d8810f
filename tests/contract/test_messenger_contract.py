"""One contract for every Messenger: the sandbox and the Graph API client against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from adapters.fakes.graph_api import FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.meta.sandbox import SandboxMessenger
from core.outbound import (
    Button,
    ButtonsMessage,
    MarkRead,
    OutboundMessage,
    TextMessage,
)
from core.ports import Messenger, PermanentError

TO = "+393331234567"


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A messenger and a way to see the JSON bodies it delivered."""

    messenger: Messenger
    delivered: Callable[[], list[dict[str, Any]]]


@pytest.fixture(params=["sandbox", "graph"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[Case]:
    """Each messenger implementation with its observation point."""
    if request.param == "sandbox":
        sandbox = SandboxMessenger()
        yield Case(messenger=sandbox, delivered=lambda: [s.payload for s in sandbox.sent])
        return
    fake = FakeGraphApi()
    base_url = await fake.start()
    async with aiohttp.ClientSession() as session:
        messenger = GraphMessenger(
            session,
            base_url=base_url,
            phone_number_id=fake.phone_number_id,
            access_token=fake.access_token,
        )
        yield Case(
            messenger=messenger,
            delivered=lambda: [r.json for r in fake.requests if r.path.endswith("/messages")],
        )
    await fake.close()


def _text(outbound_id: str = "out-1", body: str = "Ciao!") -> OutboundMessage:
    return OutboundMessage(outbound_id=outbound_id, to=TO, content=TextMessage(body=body))


async def test_send_returns_a_wamid_for_our_outbound_id(case: Case) -> None:
    """A sent text comes back with a wamid and our own id."""
    result = await case.messenger.send(_text())
    assert result.wamid is not None
    assert result.wamid.startswith("wamid.")
    assert result.outbound_id == "out-1"


async def test_each_send_gets_its_own_wamid(case: Case) -> None:
    """Two sends are two messages with two wamids."""
    first = await case.messenger.send(_text("a"))
    second = await case.messenger.send(_text("b"))
    assert first.wamid != second.wamid


async def test_sent_message_is_observable_with_recipient_and_body(case: Case) -> None:
    """What was sent can be seen where the transport delivers it."""
    await case.messenger.send(_text(body="Il tuo ordine è partito"))
    [payload] = case.delivered()
    assert payload["to"] == TO
    assert payload["text"]["body"] == "Il tuo ordine è partito"


async def test_sent_message_carries_our_id_as_callback_data(case: Case) -> None:
    """Our outbound id travels as biz_opaque_callback_data."""
    await case.messenger.send(_text("out-77"))
    assert case.delivered()[0]["biz_opaque_callback_data"] == "out-77"


async def test_buttons_are_delivered_as_interactive(case: Case) -> None:
    """Interactive messages pass through unchanged."""
    content = ButtonsMessage(body="Confermi?", buttons=(Button(id="yes", title="Sì"),))
    await case.messenger.send(OutboundMessage(outbound_id="o", to=TO, content=content))
    assert case.delivered()[0]["interactive"]["action"]["buttons"][0]["reply"]["id"] == "yes"


async def test_mark_read_returns_no_wamid(case: Case) -> None:
    """Mark-as-read is acknowledged without a message id."""
    message = OutboundMessage(outbound_id="r", to=TO, content=MarkRead(message_id="wamid.IN1"))
    result = await case.messenger.send(message)
    assert result.wamid is None
    assert case.delivered()[0]["status"] == "read"


# -- sandbox specifics (what the simulator relies on) ------------------------------------------


async def test_sandbox_subscriber_receives_later_sends() -> None:
    """A subscriber's queue gets each send with its wamid, as /simulate?wait= needs."""
    sandbox = SandboxMessenger()
    async with sandbox.subscription() as queue:
        result = await sandbox.send(_text())
        sent = queue.get_nowait()
    assert (sent.wamid, sent.message.outbound_id) == (result.wamid, "out-1")


async def test_sandbox_wamids_count_up() -> None:
    """Sandbox wamids are wamid.sandbox.<n>."""
    sandbox = SandboxMessenger()
    results = [await sandbox.send(_text(str(i))) for i in range(2)]
    assert [r.wamid for r in results] == ["wamid.sandbox.1", "wamid.sandbox.2"]


async def test_sandbox_log_keeps_only_the_latest() -> None:
    """The in-memory log is bounded."""
    sandbox = SandboxMessenger(capacity=2)
    for i in range(3):
        await sandbox.send(_text(str(i)))
    assert [s.message.outbound_id for s in sandbox.sent] == ["1", "2"]


async def test_sandbox_slow_subscriber_loses_the_oldest_not_the_send() -> None:
    """A full subscriber queue drops its oldest item instead of blocking sends."""
    sandbox = SandboxMessenger(queue_size=1)
    queue = sandbox.subscribe()
    await sandbox.send(_text("a"))
    await sandbox.send(_text("b"))
    assert queue.get_nowait().message.outbound_id == "b"


async def test_sandbox_refuses_media_permanently() -> None:
    """The sandbox has no media: fetching is a permanent error that says why."""
    with pytest.raises(PermanentError, match="sandbox"):
        await SandboxMessenger().fetch_media("media-1")
