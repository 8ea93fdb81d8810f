"""Failed sends reach people: support pushes, and operator alerts for our own faults (190)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.engine.outbox import OutboxSender
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.metrics import ServiceMetrics
from adapters.readmodel.runner import runner_for
from adapters.readmodel.tables import review_queue
from adapters.store.event_store import EventStore
from events.conversation import ConversationEscalated, OutboundSent
from events.notify import PushRequested
from events.outbox import OperatorAlerted
from events.whatsapp import MetaError
from projections.review_queue import ReviewQueueProjection
from tests.engine.test_outbox_policies import STREAM, inbound, payloads, put, run, status, text

pytestmark = pytest.mark.integration


async def test_expired_token_records_an_operator_alert_with_code_and_title(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """190 from the fake Graph API: one call, OperatorAlerted and an operator push to support."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(190))
    await put(store, inbound(), text("o1"))
    await run(store, OutboxSender(store, messenger))
    found = await payloads(store)
    [alert] = [p for p in found if isinstance(p, OperatorAlerted)]
    assert (alert.outbound_id, alert.code, alert.source) == ("o1", 190, "send")
    assert "access token" in alert.title.lower()
    [push] = [p for p in found if isinstance(p, PushRequested)]
    assert (push.audience, push.reason) == ("support", "operator_alert")
    assert "scaduto" in push.title
    assert all(isinstance(d.value, str) for d in push.data)
    assert ConversationEscalated(reason="send_failed") in found
    assert len([r for r in fake.requests if r.path.endswith("/messages")]) == 1


async def test_operator_alert_opens_a_review_item_and_counts_in_metrics(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """The alert is a review-queue row of kind operator_alert and a dloop_operator_alerts sample."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(190))
    await put(store, inbound(), text("o1"))
    await run(store, OutboxSender(store, messenger))
    await runner_for(store, ReviewQueueProjection()).catch_up()
    async with store.engines.reader.connect() as conn:
        rows = (await conn.execute(select(review_queue))).mappings().all()
    [item] = [r for r in rows if r["kind"] == "operator_alert"]
    assert "190" in item["summary"]
    assert item["status"] == "open"
    metrics = ServiceMetrics()
    metrics.observe(await store.read_stream(STREAM))
    assert metrics.registry.get_sample_value("dloop_operator_alerts_total", {"code": "190"}) == 1


async def test_an_expired_token_pages_support_once_not_for_every_message(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Every failed message is alerted and reviewable, but only the first one is pushed."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(190), Behaviour.error(190))
    sender = OutboxSender(store, messenger)
    await put(store, inbound(), text("o1"))
    await run(store, sender)
    await put(store, inbound("wamid.IN2"), text("o2"))
    await run(store, sender)
    found = await payloads(store)
    assert [p.outbound_id for p in found if isinstance(p, OperatorAlerted)] == ["o1", "o2"]
    assert len([p for p in found if isinstance(p, PushRequested)]) == 1


async def test_a_recipient_side_failure_pushes_an_escalation_not_an_operator_alert(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """131026 (undeliverable): support is pushed about the escalation; no operator alert."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(131026))
    await put(store, inbound(), text("o1"))
    await run(store, OutboxSender(store, messenger))
    found = await payloads(store)
    assert not [p for p in found if isinstance(p, OperatorAlerted)]
    [push] = [p for p in found if isinstance(p, PushRequested)]
    assert (push.audience, push.reason) == ("support", "send_failed")
    assert ("conversation", STREAM.removeprefix("conversation-")) in [
        (d.key, d.value) for d in push.data
    ]


async def test_a_failed_status_with_190_is_an_operator_alert_too(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A ``failed`` status webhook with code 190 records the alert from the status."""
    _fake, messenger = graph_client
    await put(store, inbound(), text("o1"), OutboundSent(outbound_id="o1", wamid="wamid.O1"))
    await put(store, status("failed", "o1", errors=(MetaError(code=190, title="Token expired"),)))
    await run(store, OutboxSender(store, messenger))
    [alert] = [p for p in await payloads(store) if isinstance(p, OperatorAlerted)]
    assert (alert.code, alert.title, alert.source) == (190, "Token expired", "status")


async def test_a_rerun_records_no_second_alert_or_push(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Deterministic ids: dispatching the same failure again appends nothing new."""
    fake, messenger = graph_client
    fake.script(Behaviour.error(190))
    await put(store, inbound(), text("o1"))
    await run(store, OutboxSender(store, messenger))
    before = await payloads(store)
    await run(store, OutboxSender(store, messenger))
    assert await payloads(store) == before
