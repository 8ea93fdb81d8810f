"""The market's statuses on a relay (pure): pick-up and delivery, each told once."""

from __future__ import annotations

from datetime import timedelta
from typing import Never

from core import market as mk
from core.decider import Decision
from core.relay_status import RELAY_STATUS, MarketReported, RelayView, StatusEvent
from events.conversation import ReplyKind, ReplyQueued
from events.delivery import OrderPickedUp, OrderReady
from events.market import OrderNumberAssigned
from events.notify import PushRequested
from events.orders import OrderAccepted, OrderDelivered
from tests.unit.test_order_relay_machine import (
    ASKED,
    CONFIRMED,
    CREATED,
    DRAFTED,
    RELAYED,
    RID,
    T0,
)

AT = T0 + timedelta(hours=1)
ACCEPTED = OrderAccepted(relay_id=RID, accepted_at=T0)
READY = OrderReady(relay_id=RID, ready_at=T0)
NUMBERED = OrderNumberAssigned(relay_id=RID, number=7)
HANDED = (DRAFTED, ASKED, CONFIRMED, CREATED, NUMBERED, RELAYED, ACCEPTED, READY)


def view(*history: object) -> RelayView:
    """The relay after ``history``."""
    state = RELAY_STATUS.initial(f"order-{RID}")
    for event in history:
        state = RELAY_STATUS.evolve(state, event)  # type: ignore[arg-type]
    return state


def decide(
    status: str,
    *history: object,
    opted_out: bool = False,
    wrote: timedelta | None = timedelta(hours=1),
) -> Decision[StatusEvent, Never]:
    """One decision at ``AT``; the customer last wrote ``wrote`` before it (None: never)."""
    given = MarketReported(
        status=status,
        at=AT,
        dealer_name="Zampe",
        opted_out=opted_out,
        last_customer_message_at=None if wrote is None else AT - wrote,
    )
    return RELAY_STATUS.decide(view(*history), given, (), AT, iter(["push-1", "out-1"]))


def test_the_state_keeps_the_relay_and_its_number() -> None:
    """Both halves follow the stored events."""
    folded = view(*HANDED)
    assert (folded.relay.relay_id, folded.extras.number) == (RID, 7)


def test_picked_up_is_recorded_and_told_with_the_number_and_the_dealer() -> None:
    """``OrderPickedUp`` and a text to the customer, under the second id."""
    picked, told = decide("picked_up", *HANDED).events
    assert picked == OrderPickedUp(relay_id=RID, picked_up_at=AT)
    assert isinstance(told, ReplyQueued)
    assert (told.outbound_id, told.kind) == ("out-1", ReplyKind.TEXT)
    assert "7" in told.text
    assert "Zampe" in told.text


def test_delivered_in_the_window_pushes_and_writes_a_text() -> None:
    """Inside 24 hours: the push to the customer's devices and the delivered text."""
    delivered, push, told = decide("delivered", *HANDED).events
    assert delivered == OrderDelivered(relay_id=RID, delivered_at=AT)
    assert isinstance(push, PushRequested)
    assert (push.notification_id, push.owner) == ("push-1", DRAFTED.customer_key)
    assert isinstance(told, ReplyQueued)
    assert (told.outbound_id, told.kind) == ("out-1", ReplyKind.TEXT)
    assert told.text == mk.delivered_text(7, "Zampe")


def test_delivered_outside_the_window_uses_the_template() -> None:
    """Two days after the customer last wrote: the approved template, not a text."""
    *_, told = decide("delivered", *HANDED, wrote=timedelta(days=2)).events
    assert isinstance(told, ReplyQueued)
    assert (told.kind, told.text) == (ReplyKind.TEMPLATE, mk.DELIVERED_TEMPLATE)


def test_an_opted_out_customer_gets_the_push_but_no_message() -> None:
    """After an opt-out nothing goes on WhatsApp; the relay still records the delivery."""
    events = decide("delivered", *HANDED, opted_out=True).events
    assert [type(e) for e in events] == [OrderDelivered, PushRequested]


def test_a_repeated_or_unknown_status_decides_nothing() -> None:
    """A second ``delivered`` and a status we do not track change nothing."""
    delivered = OrderDelivered(relay_id=RID, delivered_at=AT)
    assert decide("delivered", *HANDED, delivered) == Decision()
    assert decide("on_the_way", *HANDED) == Decision()
