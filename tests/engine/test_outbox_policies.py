"""Outbox policies: merging, escalation, operator alerts, late reconciliation, typing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from adapters.engine.dispatch import StreamDispatcher
from adapters.engine.outbox import OutboxSender, is_outbox_input
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.conversation import (
    ConversationEscalated,
    OutboundFailed,
    OutboundSent,
    ReplyKind,
    ReplyQueued,
)
from events.outbox import OutboundAttempted, OutboundReconciled
from events.whatsapp import MessageReceived, MetaError, StatusReceived

pytestmark = pytest.mark.integration
PHONE = "+393281234567"
STREAM = f"conversation-{PHONE}"


async def put(store: EventStore, *payloads: object) -> None:
    """Append ``payloads`` to the conversation in one go."""
    new = [NewEvent(event_id=uuid.uuid4(), payload=p) for p in payloads]
    await store.append(STREAM, Expect.ANY, new)


def inbound(wamid: str = "wamid.IN1") -> MessageReceived:
    """A customer message written just now (the 24-hour window is open)."""
    return MessageReceived(
        wamid=wamid,
        wa_id=PHONE[1:],
        phone=PHONE,
        bsuid=None,
        kind="text",
        text="ciao",
        sent_at=datetime.now(UTC),
    )


def text(oid: str, body: str = "Ciao!") -> ReplyQueued:
    """A queued text reply."""
    return ReplyQueued(outbound_id=oid, to=PHONE, kind=ReplyKind.TEXT, text=body)


async def run(store: EventStore, sender: OutboxSender) -> None:
    """Dispatch the outbox until idle."""
    await StreamDispatcher(store, "outbox", is_outbox_input, sender.handle).run_until_idle()


async def payloads(store: EventStore) -> list[object]:
    """The conversation stream's payloads."""
    return [e.payload for e in await store.read_stream(STREAM)]


async def test_consecutive_texts_of_one_turn_go_out_as_one_message(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Three texts queued together: one request, joined bodies, one outcome each."""
    fake, messenger = graph_client
    await put(store, inbound(), text("o1", "Uno"), text("o2", "Due"), text("o3", "Tre"))
    await run(store, OutboxSender(store, messenger))
    [body] = fake.accepted
    assert body["text"]["body"] == "Uno\n\nDue\n\nTre"
    assert body["biz_opaque_callback_data"] == "o1"
    sent = [p for p in await payloads(store) if isinstance(p, OutboundSent)]
    assert [s.outbound_id for s in sent] == ["o1", "o2", "o3"]
    assert len({s.wamid for s in sent}) == 1


async def test_permanent_send_failure_escalates_to_support(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Error 131026 (undeliverable): failure recorded and the conversation escalated."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(131026))
    await put(store, inbound(), text("o1"))
    await run(store, OutboxSender(store, messenger))
    found = await payloads(store)
    assert [p.code for p in found if isinstance(p, OutboundFailed)] == [131026]
    assert ConversationEscalated(reason="send_failed") in found


async def test_expired_token_raises_an_operator_alert(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Error 190 logs ``operator.alert`` at error level besides escalating."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(190))
    await put(store, inbound(), text("o1"))
    sender = OutboxSender(store, messenger)
    with capture_logs() as logs:
        await run(store, sender)
    alerts = [entry for entry in logs if entry["event"] == "operator.alert"]
    assert [(a["log_level"], a["code"]) for a in alerts] == [("error", 190)]
    assert ConversationEscalated(reason="send_failed") in await payloads(store)


async def test_failed_status_webhook_with_a_permanent_code_escalates(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A ``failed`` status carrying our id and code 131026 escalates the conversation."""
    _fake, messenger = graph_client
    await put(store, inbound(), text("o1"), OutboundSent(outbound_id="o1", wamid="wamid.O1"))
    await put(store, status("failed", "o1", errors=(MetaError(code=131026),)))
    await run(store, OutboxSender(store, messenger))
    assert ConversationEscalated(reason="send_failed") in await payloads(store)


async def test_late_status_webhook_reconciles_an_unknown_outcome(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A delivered status arriving after "outcome unknown" was recorded reconciles it."""
    fake, messenger = graph_client
    await put(store, inbound(), text("o1"), OutboundAttempted(outbound_id="o1", attempt=1))
    sender = OutboxSender(store, messenger)
    await run(store, sender)
    await put(store, status("delivered", "o1"))
    await run(store, sender)
    found = await payloads(store)
    assert OutboundReconciled(outbound_id="o1", wamid="wamid.O1", status="delivered") in found
    assert fake.accepted == []


async def test_fresh_inbound_message_gets_read_receipt_with_typing(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """With ``mark_read``, the message being answered is marked read with typing on."""
    fake, messenger = graph_client
    await put(store, inbound("wamid.FRESH"))
    await run(store, OutboxSender(store, messenger, mark_read=True))
    for _ in range(100):
        if fake.requests:
            break
        await asyncio.sleep(0.02)
    [read] = [r.json for r in fake.requests]
    assert read["status"] == "read"
    assert read["message_id"] == "wamid.FRESH"
    assert read["typing_indicator"] == {"type": "text"}


async def test_a_burst_handled_together_gets_one_read_receipt_for_its_latest_message(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Reading the latest message reads the earlier ones too: one call, not five."""
    fake, messenger = graph_client
    for n in range(5):
        await put(store, inbound(f"wamid.BURST{n}"))
    await run(store, OutboxSender(store, messenger, mark_read=True))
    for _ in range(100):
        if fake.requests:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)  # a second receipt, if one were sent, would be here by now
    assert [r.json["message_id"] for r in fake.requests] == ["wamid.BURST4"]


def status(kind: str, oid: str, errors: tuple[MetaError, ...] = ()) -> StatusReceived:
    """A status webhook about our message ``oid``."""
    return StatusReceived(
        wamid="wamid.O1",
        status=kind,
        recipient_id=PHONE[1:],
        phone=PHONE,
        bsuid=None,
        timestamp=datetime.now(UTC),
        biz_opaque_callback_data=oid,
        errors=errors,
    )
