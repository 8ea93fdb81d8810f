"""The relay's answer to the customer's cart (pure): confirm, cancel, confirm with delivery."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Never

from core.decider import Decision
from core.order_relay import fold_relay
from core.relay_decider import (
    RELAY_ANSWERS,
    CartAnswered,
    CheckoutDone,
    RelayEvent,
    RelayInput,
)
from events.checkout import CheckoutCompleted
from events.conversation import CartCancelled, CartConfirmed
from events.delivery import DeliveryScheduled
from events.orders import OrderCancelled, OrderConfirmed, OrderExpired
from tests.unit.test_order_relay_machine import ASKED, DRAFTED, RID, T0

AT = T0 + timedelta(minutes=3)


def decide(given: RelayInput, *history: object) -> Decision[RelayEvent, Never]:
    """One decision on relay ``RID`` after ``history`` (drafted and asked by default)."""
    events = history or (DRAFTED, ASKED)
    state = fold_relay(RELAY_ANSWERS.initial(f"order-{RID}"), events)
    return RELAY_ANSWERS.decide(state, given, (), T0, iter(()))


def checkout(cart_id: str = "cart-1") -> CheckoutDone:
    """The checkout of ``cart_id`` completed, this relay's fee share 2.50."""
    completed = CheckoutCompleted(
        cart_id=cart_id,
        address="Via Roma 1",
        asap=True,
        deliver_at=None,
        when_text="appena possibile",
        payment="contanti",
        fee=Decimal("5.00"),
        items_total=Decimal("30.00"),
        total=Decimal("35.00"),
        wamid="w-9",
    )
    return CheckoutDone(completed=completed, fee=Decimal("2.50"), at=AT)


def test_the_initial_state_names_the_relay_of_the_stream() -> None:
    """``order-<relay_id>`` starts a relay with that id and nothing else."""
    assert RELAY_ANSWERS.initial(f"order-{RID}").relay_id == RID


def test_a_confirmed_cart_confirms_the_relay_when_it_was_recorded() -> None:
    """The confirmation is dated by the fact's recording, not by the runner's clock."""
    decision = decide(CartAnswered(outcome=CartConfirmed(cart_id="cart-1", wamid="w"), at=AT))
    assert decision == Decision(events=(OrderConfirmed(relay_id=RID, confirmed_at=AT),))


def test_a_cancelled_cart_cancels_the_relay() -> None:
    """The customer's reason is kept."""
    given = CartAnswered(outcome=CartCancelled(cart_id="cart-1", reason="customer"), at=AT)
    assert decide(given).events == (OrderCancelled(relay_id=RID, reason="customer"),)


def test_the_completed_checkout_confirms_with_the_delivery_terms() -> None:
    """``OrderConfirmed`` and ``DeliveryScheduled`` with this relay's fee and its total."""
    confirmed, scheduled = decide(checkout()).events
    assert confirmed == OrderConfirmed(relay_id=RID, confirmed_at=AT)
    assert isinstance(scheduled, DeliveryScheduled)
    assert (scheduled.fee, scheduled.total) == (Decimal("2.50"), DRAFTED.total + Decimal("2.50"))
    assert (scheduled.asap, scheduled.payment, scheduled.when_text) == (
        True,
        "contanti",
        "appena possibile",
    )


def test_answers_about_another_cart_decide_nothing() -> None:
    """A foreign cart, by message or by checkout, leaves the relay alone."""
    other = CartAnswered(outcome=CartConfirmed(cart_id="cart-9", wamid=None), at=AT)
    assert decide(other) == Decision()
    assert decide(checkout("cart-9")) == Decision()


def test_a_late_answer_on_an_expired_relay_decides_nothing() -> None:
    """A fact arriving after the expiry never raises and schedules no delivery."""
    expired = OrderExpired(relay_id=RID, expired_at=T0)
    assert decide(checkout(), DRAFTED, ASKED, expired) == Decision()
    cancel = CartAnswered(outcome=CartCancelled(cart_id="cart-1", reason="customer"), at=AT)
    assert decide(cancel, DRAFTED, ASKED, expired) == Decision()


def test_a_relay_nobody_wrote_decides_nothing() -> None:
    """An empty stream (no draft) has no cart: a confirmation changes nothing."""
    confirmed = CartAnswered(outcome=CartConfirmed(cart_id="cart-1", wamid=None), at=AT)
    state = RELAY_ANSWERS.initial(f"order-{RID}")
    assert RELAY_ANSWERS.decide(state, confirmed, (), T0, iter(())) == Decision()
