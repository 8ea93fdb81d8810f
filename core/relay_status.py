"""The market's statuses on a relay, as a decider: the pick-up and the delivery, told once.

State: the relay (:func:`~core.order_relay.evolve_relay`) and its number
(:func:`~core.market.evolve_extras`). Input: a status the market reported, with what the
customer's side looks like (opted out, when they last wrote) and the dealer's name,
which the shell reads from other streams. ``picked_up`` records ``OrderPickedUp`` and
tells the customer; ``delivered`` records ``OrderDelivered``, pushes to the customer's
devices and tells them on WhatsApp: a text inside the 24-hour window, the approved
template outside it, nothing after an opt-out. A repeated or unknown status decides
nothing. ``ids`` gives the push's id, then the customer message's outbound id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Never

from core import alerts, delivery
from core import market as mk
from core.conversation import recipient
from core.decider import Decider, Decision
from core.market import RelayExtras, evolve_extras
from core.order_relay import RelayState, decide_market_status, evolve_relay
from core.window import within_service_window
from events.conversation import ReplyKind, ReplyQueued
from events.delivery import OrderPickedUp
from events.notify import PushRequested
from events.orders import OrderDelivered

StatusEvent = OrderPickedUp | OrderDelivered | PushRequested | ReplyQueued


@dataclass(frozen=True, slots=True)
class RelayView:
    """A relay's state and its number."""

    relay: RelayState
    extras: RelayExtras = field(default_factory=RelayExtras)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketReported:
    """The market reported ``status`` at ``at``; the customer's side as the shell read it."""

    status: str
    at: datetime
    dealer_name: str
    opted_out: bool
    last_customer_message_at: datetime | None


def initial_view(stream: str) -> RelayView:
    """A relay stream (``order-<relay_id>``) nothing was written to."""
    return RelayView(RelayState(relay_id=stream.removeprefix("order-")))


def evolve_view(view: RelayView, event: object) -> RelayView:
    """Total: the relay and its number follow every stored event."""
    return replace(
        view, relay=evolve_relay(view.relay, event), extras=evolve_extras(view.extras, event)
    )


def decide_status(
    view: RelayView,
    given: MarketReported,
    _recorded: tuple[StatusEvent, ...],
    now: datetime,
    ids: Iterator[str],
) -> Decision[StatusEvent, Never]:
    """The pick-up or the delivery with what the customer is told (see the module docstring)."""
    state, number = view.relay, view.extras.number
    decided = decide_market_status(state, given.status, given.at)
    push_id, outbound_id = next(ids), next(ids)
    to = recipient(state.customer_key)
    match decided:
        case [OrderPickedUp() as picked]:
            text = delivery.picked_up_text(number, given.dealer_name)
            notice = ReplyQueued(outbound_id=outbound_id, to=to, kind=ReplyKind.TEXT, text=text)
            return Decision(events=(picked, notice))
        case [OrderDelivered() as delivered]:
            push = alerts.delivered(push_id, state.customer_key, state.relay_id, number)
            if given.opted_out:
                return Decision(events=(delivered, push))
            if within_service_window(given.last_customer_message_at, now):
                text = mk.delivered_text(number, given.dealer_name)
                told = ReplyQueued(outbound_id=outbound_id, to=to, kind=ReplyKind.TEXT, text=text)
            else:
                told = ReplyQueued(
                    outbound_id=outbound_id,
                    to=to,
                    kind=ReplyKind.TEMPLATE,
                    text=mk.DELIVERED_TEMPLATE,
                )
            return Decision(events=(delivered, push, told))
        case _:
            return Decision()


RELAY_STATUS: Decider[RelayView, MarketReported, StatusEvent, Never] = Decider(
    initial=initial_view, evolve=evolve_view, decide=decide_status
)
