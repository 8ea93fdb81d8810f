"""The order relay's answer to the customer's cart, as a decider: confirm, cancel, schedule.

State: one relay stream folded with :func:`~core.order_relay.evolve_relay`. Inputs: the
customer's answer on the cart (:class:`CartAnswered`: ``CartConfirmed`` or
``CartCancelled``) or the checkout that confirms it with delivery terms
(:class:`CheckoutDone`, ADR 0010: ``OrderConfirmed`` with ``DeliveryScheduled`` beside it,
carrying this relay's share of the fee). Both are facts: an answer about another cart, or
one the relay's stage no longer allows (a late or repeated one), decides nothing. Nothing
is asked of the outside, so the runner (:mod:`adapters.engine.runner`) appends the
decision at the version it was folded to, and a conflict re-decides it under the one
conflict policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Never, assert_never

from core.decider import Decider, Decision
from core.order_relay import RelayState, decide_cart_outcome, evolve_relay
from events.checkout import CheckoutCompleted
from events.conversation import CartCancelled, CartConfirmed
from events.delivery import DeliveryScheduled
from events.orders import OrderCancelled, OrderConfirmed

RelayEvent = OrderConfirmed | OrderCancelled | DeliveryScheduled


@dataclass(frozen=True, slots=True, kw_only=True)
class CartAnswered:
    """The customer confirmed or cancelled the cart; ``at`` is when that was recorded."""

    outcome: CartConfirmed | CartCancelled
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutDone:
    """The customer's checkout of the cart completed; ``fee`` is this relay's share."""

    completed: CheckoutCompleted
    fee: Decimal
    at: datetime


RelayInput = CartAnswered | CheckoutDone


def initial_relay(stream: str) -> RelayState:
    """A relay stream (``order-<relay_id>``) nothing was written to."""
    return RelayState(relay_id=stream.removeprefix("order-"))


def decide_relay(
    state: RelayState,
    given: RelayInput,
    _recorded: tuple[RelayEvent, ...],
    _now: datetime,
    _ids: Iterator[str],
) -> Decision[RelayEvent, Never]:
    """What the relay records about the customer's answer (nothing when it does not apply)."""
    match given:
        case CartAnswered():
            return Decision(events=_answer(state, given.outcome, given.at))
        case CheckoutDone():
            p = given.completed
            confirmed = _answer(state, CartConfirmed(cart_id=p.cart_id, wamid=p.wamid), given.at)
            if not confirmed:
                return Decision()
            return Decision(events=(*confirmed, _scheduled(state, given)))
        case _:
            assert_never(given)


def _answer(
    state: RelayState, outcome: CartConfirmed | CartCancelled, at: datetime
) -> tuple[RelayEvent, ...]:
    """:func:`~core.order_relay.decide_cart_outcome`, typed."""
    decided = decide_cart_outcome(state, outcome, at)
    return tuple(e for e in decided if isinstance(e, OrderConfirmed | OrderCancelled))


def _scheduled(state: RelayState, done: CheckoutDone) -> DeliveryScheduled:
    p = done.completed
    return DeliveryScheduled(
        relay_id=state.relay_id,
        asap=p.asap,
        deliver_at=p.deliver_at,
        when_text=p.when_text,
        payment=p.payment,
        fee=done.fee,
        total=state.total + done.fee,
    )


def _evolve(state: RelayState, event: RelayEvent) -> RelayState:
    return evolve_relay(state, event)


RELAY_ANSWERS: Decider[RelayState, RelayInput, RelayEvent, Never] = Decider(
    initial=initial_relay, evolve=_evolve, decide=decide_relay
)
