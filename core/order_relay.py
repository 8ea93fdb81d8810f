"""The order relay: from a proposed cart to a dealer's answer, one relay per dealer.

Stages: ``draft`` -> ``awaiting_confirmation`` -> ``confirmed`` -> ``market_order_created``
-> ``relayed_to_dealer`` -> ``accepted`` | ``rejected``, then ``delivered`` when the market
reports the delivery; side exits ``failed``,
``cancelled`` and ``expired`` (no confirmation within 30 minutes by default). A dealer who
stays silent is reminded after 10 minutes, and support is alerted 10 minutes later.

What both life cycles share (:class:`~core.machines.DomainError`, the table helpers) is
in :mod:`core.machines`, cart pricing in :mod:`core.pricing`. Everything is pure; ``now``
and new ids are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from core.catalog import Catalog
from core.machines import Move, build_table, lookup, mermaid
from core.pricing import sum_lines
from events.conversation import CartCancelled, CartConfirmed, CartProposed, PricedLine
from events.delivery import OrderPickedUp, OrderReady
from events.orders import (
    DealerReminded,
    MarketOrderCreated,
    OrderAccepted,
    OrderCancelled,
    OrderConfirmationRequested,
    OrderConfirmed,
    OrderDelivered,
    OrderDrafted,
    OrderEscalated,
    OrderExpired,
    OrderFailed,
    OrderRejected,
    OrderRelayedToDealer,
)

# --------------------------------------------------------------------------- table


class RelayStage(StrEnum):
    """Where one dealer's order is."""

    DRAFT = "draft"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    CONFIRMED = "confirmed"
    MARKET_ORDER_CREATED = "market_order_created"
    RELAYED_TO_DEALER = "relayed_to_dealer"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    DELIVERED = "delivered"
    READY = "ready"  # the dealer said "pronto N"
    PICKED_UP = "picked_up"  # the market says the rider has it


SeedStatus = Literal["pending", "confirmed", "created", "failed"]

_D, _W, _C, _M, _R = (s.value for s in tuple(RelayStage)[:5])

RELAY_MOVES: tuple[Move, ...] = (
    Move(trigger="request_confirmation", sources=(_D,), dest=_W),
    Move(trigger="confirm", sources=(_W,), dest=_C),
    Move(trigger="create_market_order", sources=(_C,), dest=_M),
    Move(trigger="relay", sources=(_M,), dest=_R),
    Move(trigger="remind", sources=(_R,), dest=_R),
    Move(trigger="escalate", sources=(_R,), dest=_R),
    Move(trigger="accept", sources=(_R,), dest="accepted"),
    Move(trigger="reject", sources=(_R,), dest="rejected"),
    Move(trigger="fail", sources=(_C, _M, _R), dest="failed"),
    Move(trigger="cancel", sources=(_D, _W, _C, _M, _R), dest="cancelled"),
    Move(trigger="expire", sources=(_D, _W), dest="expired"),
    Move(trigger="deliver", sources=(_M, _R, "accepted"), dest="delivered"),
    Move(trigger="ready", sources=("accepted",), dest="ready"),
    Move(trigger="pick_up", sources=("accepted", "ready"), dest="picked_up"),
    Move(trigger="deliver", sources=("ready", "picked_up"), dest="delivered"),
)
"""Every allowed move of a relay (anything else is illegal)."""

RELAY_TABLE = build_table(tuple(s.value for s in RelayStage), RELAY_MOVES, initial=_D)

_SEED: dict[RelayStage, SeedStatus] = {
    RelayStage.DRAFT: "pending",
    RelayStage.AWAITING_CONFIRMATION: "pending",
    RelayStage.CONFIRMED: "confirmed",
    RelayStage.MARKET_ORDER_CREATED: "created",
    RelayStage.RELAYED_TO_DEALER: "created",
    RelayStage.ACCEPTED: "created",
    RelayStage.DELIVERED: "created",
    RelayStage.READY: "created",
    RelayStage.PICKED_UP: "created",
}


def next_relay_stage(current: RelayStage, trigger: str) -> RelayStage:
    """The stage ``trigger`` leads to; raises :class:`IllegalTransitionError`."""
    return RelayStage(lookup(RELAY_TABLE, current.value, trigger))


def relay_diagram() -> str:
    """The relay table as a Mermaid state diagram."""
    return mermaid(RELAY_MOVES, initial=_D)


def to_seed_status(stage: RelayStage) -> SeedStatus:
    """The original Supabase ``whatsapp_order_relays.status``; the fine stage is kept beside it.

    Rejected, failed, cancelled and expired relays all read ``failed`` there.
    """
    return _SEED.get(stage, "failed")


# --------------------------------------------------------------------------- state


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayTimeouts:
    """How long to wait for the customer's confirmation and for the dealer's answer."""

    confirmation: timedelta = timedelta(minutes=30)
    dealer_reminder: timedelta = timedelta(minutes=10)
    dealer_escalation: timedelta = timedelta(minutes=10)  # after the reminder


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayState:
    """One dealer's share of a cart, folded from its ``order-<relay_id>`` stream."""

    relay_id: str
    stage: RelayStage = RelayStage.DRAFT
    customer_key: str = ""
    cart_id: str = ""
    dealer_id: str = ""
    dealer_phone: str = ""
    lines: tuple[PricedLine, ...] = ()
    total: Decimal = Decimal("0.00")
    requested_at: datetime | None = None
    market_order_id: str | None = None
    relayed_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated: bool = False
    reason: str | None = None  # why it was rejected, failed or cancelled


def _drafted(s: RelayState, e: OrderDrafted) -> RelayState:
    return replace(
        s,
        stage=RelayStage.DRAFT,
        customer_key=e.customer_key,
        cart_id=e.cart_id,
        dealer_id=e.dealer_id,
        dealer_phone=e.dealer_phone,
        lines=e.lines,
        total=e.total,
    )


_S = RelayStage
_RELAY_HANDLERS: dict[type[Any], Callable[[RelayState, Any], RelayState]] = {
    OrderDrafted: _drafted,
    OrderConfirmationRequested: lambda s, e: replace(
        s, stage=_S.AWAITING_CONFIRMATION, requested_at=e.requested_at
    ),
    OrderConfirmed: lambda s, _e: replace(s, stage=_S.CONFIRMED),
    MarketOrderCreated: lambda s, e: replace(
        s, stage=_S.MARKET_ORDER_CREATED, market_order_id=e.market_order_id
    ),
    OrderRelayedToDealer: lambda s, e: replace(
        s, stage=_S.RELAYED_TO_DEALER, relayed_at=e.relayed_at
    ),
    DealerReminded: lambda s, e: replace(s, reminded_at=e.reminded_at),
    OrderEscalated: lambda s, _e: replace(s, escalated=True),
    OrderAccepted: lambda s, _e: replace(s, stage=_S.ACCEPTED),
    OrderRejected: lambda s, e: replace(s, stage=_S.REJECTED, reason=e.reason),
    OrderFailed: lambda s, e: replace(s, stage=_S.FAILED, reason=f"{e.step}: {e.error}"),
    OrderCancelled: lambda s, e: replace(s, stage=_S.CANCELLED, reason=e.reason),
    OrderExpired: lambda s, _e: replace(s, stage=_S.EXPIRED),
    OrderDelivered: lambda s, _e: replace(s, stage=_S.DELIVERED),
    OrderReady: lambda s, _e: replace(s, stage=_S.READY),
    OrderPickedUp: lambda s, _e: replace(s, stage=_S.PICKED_UP),
}


def evolve_relay(state: RelayState, event: object) -> RelayState:
    """Fold one stored event; total: sets the recorded stage, never raises."""
    handler = _RELAY_HANDLERS.get(type(event))
    return state if handler is None else handler(state, event)


def fold_relay(state: RelayState, events: Iterable[object]) -> RelayState:
    """Fold a relay stream in order."""
    for item in events:
        state = evolve_relay(state, item)
    return state


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayStart:
    """The first events of one new relay stream."""

    relay_id: str
    events: tuple[object, ...] = field(default_factory=tuple)


def start_relays(
    proposal: CartProposed, customer_key: str, catalog: Catalog, now: datetime, ids: Iterator[str]
) -> tuple[RelayStart, ...]:
    """One relay per dealer of a proposed cart: drafted, then awaiting the confirmation."""
    shares: dict[str, list[PricedLine]] = {}
    for line in proposal.lines:
        shares.setdefault(line.dealer_id, []).append(line)
    starts: list[RelayStart] = []
    for dealer_id, lines in shares.items():
        relay_id = next(ids)
        dealer = catalog.dealer(dealer_id)
        drafted = OrderDrafted(
            relay_id=relay_id,
            customer_key=customer_key,
            cart_id=proposal.cart_id,
            dealer_id=dealer_id,
            dealer_phone=dealer.phone if dealer is not None else "",
            lines=tuple(lines),
            total=sum_lines(lines),
            currency=proposal.currency,
        )
        asked = OrderConfirmationRequested(relay_id=relay_id, requested_at=now)
        starts.append(RelayStart(relay_id=relay_id, events=(drafted, asked)))
    return tuple(starts)


def can(state: RelayState, trigger: str) -> bool:
    """True when ``trigger`` is allowed from the relay's stage."""
    return bool(RELAY_TABLE.get_transitions(trigger=trigger, source=state.stage.value))


def _if(state: RelayState, trigger: str, make: Callable[[], object]) -> list[object]:
    return [make()] if can(state, trigger) else []


def decide_cart_outcome(
    state: RelayState, outcome: CartConfirmed | CartCancelled, now: datetime
) -> list[object]:
    """Follow the customer's answer on the cart; a fact, so a late or foreign one gives []."""
    if outcome.cart_id != state.cart_id:
        return []
    rid = state.relay_id
    if isinstance(outcome, CartConfirmed):
        return _if(state, "confirm", lambda: OrderConfirmed(relay_id=rid, confirmed_at=now))
    return _if(state, "cancel", lambda: OrderCancelled(relay_id=rid, reason=outcome.reason))


def record_market_order(
    state: RelayState, *, market_order_id: str | None, error: str | None = None
) -> list[object]:
    """The market API's outcome: created, or failed with ``error``."""
    rid = state.relay_id
    if market_order_id is None:
        failed = OrderFailed(relay_id=rid, step="market_order", error=error or "unknown")
        return _if(state, "fail", lambda: failed)
    created = MarketOrderCreated(relay_id=rid, market_order_id=market_order_id)
    return _if(state, "create_market_order", lambda: created)


def record_relayed(state: RelayState, outbound_id: str, now: datetime) -> list[object]:
    """The dealer's message was queued under ``outbound_id``."""
    relayed = OrderRelayedToDealer(relay_id=state.relay_id, outbound_id=outbound_id, relayed_at=now)
    return _if(state, "relay", lambda: relayed)


def expiry_due(
    state: RelayState, now: datetime, timeout: timedelta = timedelta(minutes=30)
) -> bool:
    """True when the customer has not confirmed within ``timeout`` of being asked."""
    waiting = state.stage in (RelayStage.DRAFT, RelayStage.AWAITING_CONFIRMATION)
    return waiting and state.requested_at is not None and now - state.requested_at >= timeout


def reminder_due(
    state: RelayState, now: datetime, after: timedelta = timedelta(minutes=10)
) -> bool:
    """True when the dealer has been silent for ``after`` and was not reminded yet."""
    if state.stage is not RelayStage.RELAYED_TO_DEALER or state.relayed_at is None:
        return False
    return state.reminded_at is None and now - state.relayed_at >= after


def escalation_due(
    state: RelayState, now: datetime, after: timedelta = timedelta(minutes=10)
) -> bool:
    """True when the dealer stayed silent ``after`` the reminder and support was not told."""
    if state.stage is not RelayStage.RELAYED_TO_DEALER or state.reminded_at is None:
        return False
    return not state.escalated and now - state.reminded_at >= after


def decide_timers(
    state: RelayState, now: datetime, ids: Iterator[str], timeouts: RelayTimeouts = RelayTimeouts()
) -> list[object]:
    """What the timer wake-up at ``now`` means: expire, remind the dealer, or alert support."""
    rid = state.relay_id
    if expiry_due(state, now, timeouts.confirmation):
        return [OrderExpired(relay_id=rid, expired_at=now)]
    if reminder_due(state, now, timeouts.dealer_reminder):
        return [DealerReminded(relay_id=rid, outbound_id=next(ids), reminded_at=now)]
    if escalation_due(state, now, timeouts.dealer_escalation):
        return [OrderEscalated(relay_id=rid, reason="dealer_silent", escalated_at=now)]
    return []


def decide_dealer_answer(
    state: RelayState, *, accept: bool, reason: str | None, now: datetime
) -> list[object]:
    """The dealer accepted or rejected on WhatsApp (a fact: a late answer gives [])."""
    rid = state.relay_id
    if accept:
        return _if(state, "accept", lambda: OrderAccepted(relay_id=rid, accepted_at=now))
    rejected = OrderRejected(relay_id=rid, reason=reason, rejected_at=now)
    return _if(state, "reject", lambda: rejected)


def decide_market_status(state: RelayState, status: str, at: datetime) -> list[object]:
    """A status the market reported: ``delivered`` delivers and ``picked_up`` records the
    rider's pick-up (each once); others change nothing."""
    if status == "picked_up":
        picked = OrderPickedUp(relay_id=state.relay_id, picked_up_at=at)
        return _if(state, "pick_up", lambda: picked)
    if status != "delivered":
        return []
    delivered = OrderDelivered(relay_id=state.relay_id, delivered_at=at)
    return _if(state, "deliver", lambda: delivered)


def decide_ready(state: RelayState, now: datetime) -> list[object]:
    """The dealer's "pronto N": an accepted order is ready for the rider ([] otherwise)."""
    return _if(state, "ready", lambda: OrderReady(relay_id=state.relay_id, ready_at=now))


def cancel_by_agent(state: RelayState, *, agent: str, reason: str) -> list[object]:
    """A dashboard cancellation; raises :class:`IllegalTransitionError` when too late."""
    next_relay_stage(state.stage, "cancel")
    return [OrderCancelled(relay_id=state.relay_id, reason=reason, by=agent)]
