"""Triage columns of the pure projections: why a person is needed, unread, orders vs carts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.outbox.decide import RECIPIENT_ERASED
from events.base import Metadata, RecordedEvent
from events.checkout import CheckoutCompleted, CheckoutStarted
from events.conversation import (
    AgentTookOver,
    ConversationEscalated,
    ConversationReleased,
    OutboundFailed,
    ReplyKind,
    ReplyQueued,
    Sender,
)
from events.orders import OrderConfirmationRequested, OrderConfirmed, OrderDrafted, OrderEscalated
from events.whatsapp import MessageReceived
from projections.base import Row, RowKey
from projections.conversations import ConversationsProjection
from projections.messages import MessagesProjection
from projections.order_relays import OrderRelaysProjection

PERSON = "prs_00000000000000000000abcd"
STREAM = f"conversation-{PERSON}"
T0 = datetime(2026, 12, 5, 9, tzinfo=UTC)


def fold(projection: Any, stream: str, payloads: list[object]) -> dict[RowKey, Row]:
    """Apply ``payloads`` (one minute apart) and return every row, as the runner would."""
    rows: dict[RowKey, Row] = {}
    for n, payload in enumerate(payloads, start=1):
        event = RecordedEvent(
            position=n,
            event_id=uuid.uuid4(),
            stream=stream,
            version=n,
            type=type(payload).TYPE,  # type: ignore[attr-defined]
            schema_version=1,
            payload=payload,
            metadata=Metadata(),
            recorded_at=T0 + timedelta(minutes=n),
        )
        for change in projection.project(event, rows):
            rows[change.key] = change.values
    return rows


def message(text: str, name: str | None = "Giulia Rossi") -> MessageReceived:
    """An inbound text."""
    return MessageReceived(
        wamid=f"wamid.{uuid.uuid4().hex}",
        wa_id="393281234567",
        phone="+393281234567",
        bsuid=None,
        profile_name=name,
        kind="text",
        text=text,
        sent_at=T0,
    )


def conversation(payloads: list[object]) -> Row:
    """The one conversation row ``payloads`` build."""
    [row] = fold(ConversationsProjection(), STREAM, payloads).values()
    return row


def test_the_row_names_the_person_and_keeps_what_to_search() -> None:
    """Person id from the stream, profile name from WhatsApp, lower-case search text."""
    row = conversation([message("Vorrei la LETTIERA"), message("grazie", name=None)])
    assert (row["person_id"], row["profile_name"]) == (PERSON, "Giulia Rossi")
    assert "vorrei la lettiera" in row["search_text"]
    assert "giulia rossi" in row["search_text"]


def test_escalation_then_take_over_then_release() -> None:
    """Escalated, then taken over (since the escalation), then nobody needed."""
    row = conversation([message("aiuto"), ConversationEscalated(reason="support_request")])
    assert (row["attention"], row["attention_since"]) == ("escalated", T0 + timedelta(minutes=2))
    row = conversation(
        [message("aiuto"), ConversationEscalated(reason="x"), AgentTookOver(agent="Marta")]
    )
    assert (row["attention"], row["attention_since"]) == ("taken_over", T0 + timedelta(minutes=2))
    row = conversation(
        [
            message("aiuto"),
            AgentTookOver(agent="Marta"),
            ConversationReleased(agent="Marta"),
        ]
    )
    assert (row["attention"], row["attention_since"], row["assignee"]) == (None, None, None)


def test_a_failed_send_needs_a_person_unless_one_is_there() -> None:
    """send_failed when nobody else is on it; an escalation keeps its reason."""
    failed = OutboundFailed(outbound_id="o1", code=131026, title="x", retryable=False)
    assert conversation([message("ciao"), failed])["attention"] == "send_failed"
    escalated = ConversationEscalated(reason="support_request")
    assert conversation([message("ciao"), escalated, failed])["attention"] == "escalated"


def test_a_send_to_an_erased_person_asks_nobody() -> None:
    """The outbox could not write to someone erased: no person can help, triage stays empty."""
    gone = OutboundFailed(outbound_id="o1", code=None, title=RECIPIENT_ERASED, retryable=False)
    assert conversation([message("ciao"), gone]).get("attention") is None


def test_the_handover_after_a_failed_send_still_reads_send_failed() -> None:
    """The bot escalates a chat it cannot write to: the row says "send failed", not "asked"."""
    failed = OutboundFailed(outbound_id="o1", code=131026, title="x", retryable=False)
    handover = ConversationEscalated(reason="send_failed")
    row = conversation([message("ciao"), failed, handover])
    assert (row["attention"], row["attention_since"]) == ("send_failed", T0 + timedelta(minutes=2))
    asked = ConversationEscalated(reason="support_request")
    assert conversation([message("ciao"), asked, failed, handover])["attention"] == "escalated"


def test_unread_counts_messages_since_the_last_agent_action() -> None:
    """An agent reply marks the messages before it seen; later ones count again."""
    reply = ReplyQueued(
        outbound_id="o1",
        to=PERSON,
        kind=ReplyKind.TEXT,
        text="Eccomi",
        sender=Sender.AGENT,
        agent="Marta",
    )
    bot = ReplyQueued(outbound_id="o2", to=PERSON, kind=ReplyKind.TEXT, text="Ciao")
    row = conversation([message("a"), message("b"), bot, reply, message("c")])
    assert row["unread_count"] == 1
    assert conversation([message("a"), bot, message("b")])["unread_count"] == 2


def test_outbound_rows_say_who_wrote_and_never_hold_the_person_id_as_phone() -> None:
    """The agent's reply: sender agent, the agent's name, the person id beside no phone."""
    reply = ReplyQueued(
        outbound_id="o1",
        to=PERSON,
        kind=ReplyKind.TEXT,
        text="Eccomi",
        sender=Sender.AGENT,
        agent="Marta",
    )
    [row] = fold(MessagesProjection(), STREAM, [reply]).values()
    assert (row["sender"], row["agent"], row["person_id"]) == ("agent", "Marta", PERSON)
    assert row.get("phone") is None  # the runner writes the number (adapters/readmodel/who.py)


def relay(payloads: list[object]) -> Row:
    """The one relay row ``payloads`` build."""
    [row] = fold(OrderRelaysProjection(), "order-r1", payloads).values()
    return row


DRAFTED = OrderDrafted(
    relay_id="r1",
    customer_key=PERSON,
    cart_id="c1",
    dealer_id="d-pet",
    dealer_phone="+393330000001",
    lines=(),
    total=Decimal("37.80"),
)


def test_a_relay_is_a_cart_until_confirmed_and_an_order_after() -> None:
    """confirmed_at is set by the confirmation; the stage's clock restarts on each move."""
    asked = OrderConfirmationRequested(relay_id="r1", requested_at=T0)
    cart = relay([DRAFTED, asked])
    assert cart.get("confirmed_at") is None
    assert (cart["person_id"], cart.get("phone")) == (PERSON, None)
    assert cart["stage_changed_at"] == T0 + timedelta(minutes=2)
    order = relay([DRAFTED, asked, OrderConfirmed(relay_id="r1", confirmed_at=T0)])
    assert (order["confirmed_at"], order["stage"]) == (T0, "confirmed")
    assert order["stage_changed_at"] == T0 + timedelta(minutes=3)


def test_only_a_silent_dealer_escalation_marks_the_relay() -> None:
    """dealer_silent_at comes from order.escalated with reason dealer_silent only."""
    other = OrderEscalated(relay_id="r1", reason="other", escalated_at=T0)
    assert relay([DRAFTED, other]).get("dealer_silent_at") is None
    silent = OrderEscalated(relay_id="r1", reason="dealer_silent", escalated_at=T0)
    assert relay([DRAFTED, silent])["dealer_silent_at"] == T0


def test_the_checkout_moves_the_projected_stage_as_the_fold_does() -> None:
    """checkout.started shows "checkout" (the customer gives delivery details); completed ends it.

    The row once stayed "pending" through the checkout while ``replay`` folded "checkout".
    """
    started = CheckoutStarted(cart_id="c1", items_total=Decimal("9.90"), fee=Decimal("2.50"))
    assert conversation([message("vorrei una lettiera"), started])["stage"] == "checkout"
    done = CheckoutCompleted(
        cart_id="c1", address="via Torino 15, Milano", asap=True, deliver_at=None,
        when_text="appena possibile", payment="contanti", fee=Decimal("2.50"),
        items_total=Decimal("9.90"), total=Decimal("12.40"),
    )  # fmt: skip
    row = conversation([message("vorrei una lettiera"), started, done])
    assert row["stage"] == "pending"
    assert row["message_count"] == 1
