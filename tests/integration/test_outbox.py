"""The outbox sender against the fake Graph API over real HTTP, on both stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.engine.dispatch import StreamDispatcher
from adapters.engine.outbox import OutboxSender, is_reply_queued
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyButton, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted, OutboundReconciled
from events.whatsapp import MessageReceived, StatusReceived

pytestmark = pytest.mark.integration
PHONE = "+393281234567"
STREAM = f"conversation-{PHONE}"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def customer_wrote(store: EventStore, at: datetime) -> None:
    """An inbound message opening (or not) the 24-hour window."""
    message = MessageReceived(
        wamid=f"wamid.IN{uuid.uuid4().hex}",
        wa_id=PHONE[1:],
        phone=PHONE,
        bsuid=None,
        kind="text",
        text="ciao",
        sent_at=at,
    )
    await store.append(STREAM, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=message)])


async def queue(store: EventStore, kind: ReplyKind = ReplyKind.TEXT, text: str = "Ciao!") -> str:
    """Queue one reply and return its outbound id."""
    oid = f"out-{uuid.uuid4().hex[:8]}"
    buttons = (ReplyButton(id="confirm", title="Confermo"),) if kind is ReplyKind.BUTTONS else ()
    reply = ReplyQueued(outbound_id=oid, to=PHONE, kind=kind, text=text, buttons=buttons)
    await store.append(STREAM, Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=reply)])
    return oid


async def run(store: EventStore, messenger: GraphMessenger) -> None:
    """Dispatch the outbox until idle."""
    sender = OutboxSender(
        store, messenger, backoff_base=0.01, clock=lambda: NOW, jitter=lambda: 0.0
    )
    await StreamDispatcher(store, "outbox", is_reply_queued, sender.handle).run_until_idle()


async def outcomes(store: EventStore) -> list[object]:
    """The outbox's records in the conversation stream."""
    kinds = (OutboundSent, OutboundFailed, OutboundAttempted, OutboundReconciled)
    return [e.payload for e in await store.read_stream(STREAM) if isinstance(e.payload, kinds)]


async def test_queued_reply_is_sent_once_with_our_id_and_recorded(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """One POST carrying biz_opaque_callback_data; OutboundSent holds Meta's wamid."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW - timedelta(minutes=1))
    oid = await queue(store, ReplyKind.BUTTONS, "Confermi l'ordine?")
    await run(store, messenger)
    await run(store, messenger)  # a second pass (replay, restart) sends nothing more
    assert len(fake.accepted) == 1
    assert fake.accepted[0]["biz_opaque_callback_data"] == oid
    assert fake.accepted[0]["type"] == "interactive"
    sent = [p for p in await outcomes(store) if isinstance(p, OutboundSent)]
    assert [s.outbound_id for s in sent] == [oid]
    assert sent[0].wamid.startswith("wamid.")


async def test_transient_error_is_retried_then_sent(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A 500 then success: two attempts, one OutboundSent."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    fake.script(Behaviour.server_error(), Behaviour.ok())
    await queue(store)
    await run(store, messenger)
    kinds = [type(p).__name__ for p in await outcomes(store)]
    assert kinds == ["OutboundAttempted", "OutboundAttempted", "OutboundSent"]


@pytest.mark.parametrize("code", [131047, 131026, 131051, 100, 190])
async def test_permanent_error_is_recorded_without_retry(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger], code: int
) -> None:
    """Permanent Meta errors: one call, OutboundFailed with the code, not retryable."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    fake.script(Behaviour.error(code))
    await queue(store)
    await run(store, messenger)
    [failed] = [p for p in await outcomes(store) if isinstance(p, OutboundFailed)]
    assert (failed.code, failed.retryable) == (code, False)
    assert len([r for r in fake.requests if r.path.endswith("/messages")]) == 1


async def test_rate_limit_is_transient(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """130429 throughput errors are retried."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    fake.script(Behaviour.error(130429), Behaviour.ok())
    await queue(store)
    await run(store, messenger)
    assert isinstance((await outcomes(store))[-1], OutboundSent)


async def test_timeout_is_an_unknown_outcome_and_never_resent(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """The request may have reached Meta: record it for review, do not send again."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    fake.script(Behaviour.sleep(2.0))
    await queue(store)
    await run(store, messenger)
    [failed] = [p for p in await outcomes(store) if isinstance(p, OutboundFailed)]
    assert failed.outcome_unknown
    assert len([r for r in fake.requests if r.path.endswith("/messages")]) == 1


async def test_outside_the_window_free_text_is_not_sent(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """25 hours after the customer's last message, text fails without a call."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW - timedelta(hours=25))
    await queue(store)
    await run(store, messenger)
    [failed] = [p for p in await outcomes(store) if isinstance(p, OutboundFailed)]
    assert failed.code == 131047
    assert fake.requests == []


async def test_outside_the_window_a_template_is_sent(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """Templates may always go out."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW - timedelta(days=3))
    await queue(store, ReplyKind.TEMPLATE, "order_update")
    await run(store, messenger)
    assert fake.accepted[0]["type"] == "template"


async def test_attempt_without_outcome_after_a_crash_is_not_resent(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """An attempt recorded by a process that died: review, not a second send."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    oid = await queue(store)
    await store.append(
        STREAM,
        Expect.ANY,
        [NewEvent(event_id=uuid.uuid4(), payload=OutboundAttempted(outbound_id=oid, attempt=1))],
    )
    await run(store, messenger)
    [failed] = [p for p in await outcomes(store) if isinstance(p, OutboundFailed)]
    assert failed.outcome_unknown
    assert fake.requests == []


async def test_attempt_without_outcome_is_reconciled_by_a_status_webhook(
    store: EventStore, graph_client: tuple[FakeGraphApi, GraphMessenger]
) -> None:
    """A delivered status carrying our id proves the send: reconciled, not failed."""
    fake, messenger = graph_client
    await customer_wrote(store, NOW)
    oid = await queue(store)
    status = StatusReceived(
        wamid="wamid.X",
        status="delivered",
        recipient_id=PHONE[1:],
        phone=PHONE,
        bsuid=None,
        timestamp=NOW,
        biz_opaque_callback_data=oid,
    )
    await store.append(
        STREAM,
        Expect.ANY,
        [
            NewEvent(event_id=uuid.uuid4(), payload=OutboundAttempted(outbound_id=oid, attempt=1)),
            NewEvent(event_id=uuid.uuid4(), payload=status),
        ],
    )
    await run(store, messenger)
    [done] = [p for p in await outcomes(store) if isinstance(p, OutboundReconciled)]
    assert (done.wamid, done.status) == ("wamid.X", "delivered")
    assert fake.requests == []
