"""The order relay's drive, as a decider: market order, order number, dealer message.

State: one relay stream folded into the relay (:func:`~core.order_relay.evolve_relay`),
its number and market deferrals (:func:`~core.market.evolve_extras`) and its delivery
terms. Input: :class:`Drive` (``market``: the customer just confirmed or the market-retry
timer fired, so a deferred market order is tried again). One decision takes ONE step, the
one the stage allows; the shell runs the decider again until a run appends nothing:

1. **market order** (``confirmed``): ask who the customer is and where the order goes
   (:class:`ResolveCustomer`, :class:`FindAddress`), then :class:`CreateMarketOrder`;
   its :class:`MarketAnswered` becomes ``MarketOrderCreated``, or, when the market is
   down, ``MarketOrderDeferred`` with the customer told (until the attempts run out), or
   ``OrderFailed`` with a push to support and the customer told;
2. **order number** (``market_order_created`` without one): :class:`TakeNumber` gives
   the last number handed out; ``OrderNumberAssigned`` takes the next (the shell appends
   it to the numbers stream at that version, so two relays never share one);
3. **dealer message** (``market_order_created`` with a number): buttons inside the
   dealer's 24-hour window, the approved template outside it (:class:`SeeDealer`), the
   customer told the order number; a dealer without a phone fails the relay.

Requests and outcomes are typed in :mod:`core.relay_requests`. Outcomes are not stored
themselves: what the market answered is recorded by the event decided from it, in the
same append, and the rest are reads of our own log. ``ids`` yields one id per entry of
:data:`NAMES`, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from core import alerts, delivery
from core import market as mk
from core.conversation import recipient
from core.dealer_commands import answer_buttons, relay_text
from core.decider import Decider, Decision
from core.market import MarketDelivery, MarketOrderRequest, RelayExtras, evolve_extras
from core.order_relay import (
    RelayStage,
    RelayState,
    evolve_relay,
    record_market_order,
    record_relayed,
)
from core.phones import is_person_id, normalize_phone
from core.relay_requests import (
    AddressFound,
    CreateMarketOrder,
    CustomerResolved,
    DealerSeen,
    DriveOutcome,
    DriveRequest,
    FindAddress,
    MarketAnswered,
    NumberTaken,
    ResolveCustomer,
    SeeDealer,
    TakeNumber,
)
from core.window import within_service_window
from events.base import ERASED
from events.conversation import ReplyKind, ReplyQueued
from events.delivery import DeliveryScheduled
from events.market import MarketOrderDeferred, OrderNumberAssigned
from events.notify import PushRequested
from events.orders import MarketOrderCreated, OrderFailed, OrderRelayedToDealer

DEALER_TEMPLATE = "dloop_nuovo_ordine"  # approved template for dealers outside 24 h
NAMES = (
    "dealer-message",  # the dealer's message (and OrderRelayedToDealer's outbound id)
    "market-down",  # the customer's notices, one per kind
    "market-failed",
    "relay-failed",
    "relayed",
    "push:market_order_failed",  # support's pushes
    "push:relay_failed",
)


@dataclass(frozen=True, slots=True)
class DriveView:
    """A relay, its number and deferrals, and its delivery terms (None before checkout)."""

    relay: RelayState
    extras: RelayExtras = field(default_factory=RelayExtras)
    terms: delivery.DeliveryTerms | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Drive:
    """Take the relay one step further; ``market`` retries a deferred market order."""

    market: bool = False
    attempts: int = 6  # market calls before a market that stays down fails the relay
    retry: timedelta = timedelta(seconds=30)  # the first wait after the market was down


@dataclass(frozen=True, slots=True, kw_only=True)
class Told:
    """A message queued in the conversation of ``key`` (the customer's or the dealer's).

    ``sealed_with``: whose key must also seal it (the dealer's message carries the
    customer's address, ADR 0017).
    """

    key: str
    message: ReplyQueued
    sealed_with: tuple[str, ...] = ()


Stored = (
    MarketOrderCreated
    | MarketOrderDeferred
    | OrderFailed
    | PushRequested
    | OrderNumberAssigned
    | OrderRelayedToDealer
)
DriveEvent = Stored | Told | DriveOutcome
Out = TypeVar("Out", CustomerResolved, AddressFound, MarketAnswered, NumberTaken, DealerSeen)


def initial_drive(stream: str) -> DriveView:
    """A relay stream (``order-<relay_id>``) nothing was written to."""
    return DriveView(RelayState(relay_id=stream.removeprefix("order-")))


def evolve_drive(view: DriveView, event: object) -> DriveView:
    """Total: the relay, its extras and its terms follow every stored event."""
    terms = delivery.fold_terms((event,)) if isinstance(event, DeliveryScheduled) else view.terms
    return replace(
        view,
        relay=evolve_relay(view.relay, event),
        extras=evolve_extras(view.extras, event),
        terms=terms,
    )


def decide_drive(
    view: DriveView,
    given: Drive,
    recorded: tuple[DriveEvent, ...],
    now: datetime,
    ids: Iterator[str],
) -> Decision[DriveEvent, DriveRequest]:
    """The next step the relay's stage allows (see the module docstring), or nothing."""
    names = dict(zip(NAMES, ids, strict=False))
    stage, extras = view.relay.stage, view.extras
    if stage is RelayStage.CONFIRMED and (given.market or extras.deferrals == 0):
        return _market_step(view, given, recorded, now, names)
    if stage is RelayStage.MARKET_ORDER_CREATED and extras.number is None:
        return _number_step(view.relay, recorded)
    if stage is RelayStage.MARKET_ORDER_CREATED:
        return _relay_step(view, recorded, now, names)
    return Decision()


def _outcome(recorded: tuple[DriveEvent, ...], kind: type[Out]) -> Out | None:
    return next((e for e in recorded if isinstance(e, kind)), None)


def _market_step(
    view: DriveView,
    given: Drive,
    recorded: tuple[DriveEvent, ...],
    now: datetime,
    names: dict[str, str],
) -> Decision[DriveEvent, DriveRequest]:
    state = view.relay
    customer = _outcome(recorded, CustomerResolved)
    address = _outcome(recorded, AddressFound)
    reads: list[DriveRequest] = []
    if customer is None:
        reads.append(ResolveCustomer(state.customer_key))
    if view.terms is not None and address is None:
        reads.append(FindAddress(state.customer_key, state.cart_id))
    if reads:
        return Decision(requests=tuple(reads))
    answered = _outcome(recorded, MarketAnswered)
    if answered is None:
        phone = customer.phone if customer is not None else None
        order = _market_order(view, phone, address.address if address else None)
        return Decision(requests=(CreateMarketOrder(order),))
    if answered.market_order_id is not None:
        created = record_market_order(state, market_order_id=answered.market_order_id)
        return Decision(events=tuple(e for e in created if isinstance(e, MarketOrderCreated)))
    attempt = view.extras.deferrals + 1
    if answered.transient and attempt < given.attempts:
        deferred = MarketOrderDeferred(
            relay_id=state.relay_id,
            attempt=attempt,
            error=answered.error[:300],
            retry_at=now + mk.retry_delay(attempt, given.retry),
        )
        told = _tell_customer(state, names["market-down"], mk.MARKET_DOWN_TEXT)
        return Decision(events=(deferred, told))
    return Decision(events=_market_failed(state, answered.error[:300], names))


def _market_order(view: DriveView, phone: str | None, address: str | None) -> MarketOrderRequest:
    state, terms = view.relay, view.terms
    where = None
    if terms is not None:
        where = MarketDelivery(
            address=address or "",
            when_text=terms.when_text,
            deliver_at=terms.deliver_at,
            payment=terms.payment,
            fee=terms.fee,
        )
    return MarketOrderRequest(
        relay_id=state.relay_id,
        customer=phone if phone is not None else ERASED,
        dealer_id=state.dealer_id,
        lines=state.lines,
        total=state.total,
        delivery=where,
    )


def _market_failed(state: RelayState, error: str, names: dict[str, str]) -> tuple[DriveEvent, ...]:
    failed = record_market_order(state, market_order_id=None, error=error)
    alert = _support(
        state,
        names["push:market_order_failed"],
        "market_order_failed",
        "Ordine non registrato",
        error,
    )
    told = _tell_customer(state, names["market-failed"], mk.MARKET_FAILED_TEXT)
    return (*(e for e in failed if isinstance(e, OrderFailed)), alert, told)


def _number_step(
    state: RelayState, recorded: tuple[DriveEvent, ...]
) -> Decision[DriveEvent, DriveRequest]:
    taken = _outcome(recorded, NumberTaken)
    if taken is None:
        return Decision(requests=(TakeNumber(),))
    return Decision(events=(OrderNumberAssigned(relay_id=state.relay_id, number=taken.last + 1),))


def _relay_step(
    view: DriveView, recorded: tuple[DriveEvent, ...], now: datetime, names: dict[str, str]
) -> Decision[DriveEvent, DriveRequest]:
    state, number = view.relay, view.extras.number
    phone = normalize_phone(state.dealer_phone) if state.dealer_phone else None
    if phone is None:
        failed = OrderFailed(relay_id=state.relay_id, step="relay", error="dealer has no phone")
        alert = _support(
            state,
            names["push:relay_failed"],
            "relay_failed",
            "Negozio senza telefono",
            state.dealer_id,
        )
        told = _tell_customer(state, names["relay-failed"], mk.MARKET_FAILED_TEXT)
        return Decision(events=(failed, alert, told))
    seen = _outcome(recorded, DealerSeen)
    address = _outcome(recorded, AddressFound)
    reads: list[DriveRequest] = []
    if seen is None:
        reads.append(SeeDealer(phone, state.dealer_id))
    if view.terms is not None and address is None:
        reads.append(FindAddress(state.customer_key, state.cart_id))
    if seen is None or reads:
        return Decision(requests=tuple(reads))
    outbound_id, total = names["dealer-message"], _total(view)
    if within_service_window(seen.last_message_at, now):
        message = _buttons(view, outbound_id, phone, address.address if address else None)
    else:
        message = ReplyQueued(
            outbound_id=outbound_id,
            to=phone,
            kind=ReplyKind.TEMPLATE,
            text=DEALER_TEMPLATE,
            template_params=delivery.template_params(number, state.lines, total),
        )
    relayed = record_relayed(state, outbound_id, now)
    return Decision(
        events=(
            *(e for e in relayed if isinstance(e, OrderRelayedToDealer)),
            Told(key=phone, message=message, sealed_with=customer_seal(state)),
            _tell_customer(state, names["relayed"], mk.relayed_text(number, seen.name, total)),
        )
    )


def _buttons(view: DriveView, outbound_id: str, phone: str, address: str | None) -> ReplyQueued:
    state = view.relay
    text = relay_text(view.extras.number, state.lines, state.total)
    if view.terms is not None:
        text = f"{text}\n{delivery.dealer_delivery_text(address, view.terms)}"
    return ReplyQueued(
        outbound_id=outbound_id,
        to=phone,
        kind=ReplyKind.BUTTONS,
        text=text,
        buttons=answer_buttons(state.relay_id),
    )


def _tell_customer(state: RelayState, outbound_id: str, text: str) -> Told:
    reply = ReplyQueued(
        outbound_id=outbound_id, to=recipient(state.customer_key), kind=ReplyKind.TEXT, text=text
    )
    return Told(key=state.customer_key, message=reply)


def _support(
    state: RelayState, notification_id: str, reason: str, title: str, body: str
) -> PushRequested:
    return alerts.relay_alert(
        notification_id,
        state.relay_id,
        state.dealer_id,
        audience=alerts.SUPPORT,
        reason=reason,
        title=title,
        body=body,
    )


def customer_seal(state: RelayState) -> tuple[str, ...]:
    """Whose key must also seal the dealer's message: the customer's, whose address it holds.

    Erasing the customer then hides that message as it hides their own stream (ADR 0017).
    A customer key that is no person id (a log from before pseudonyms) adds nobody.
    """
    return (state.customer_key,) if is_person_id(state.customer_key) else ()


def _total(view: DriveView) -> Decimal:
    return view.terms.total if view.terms is not None else view.relay.total


RELAY_DRIVE: Decider[DriveView, Drive, DriveEvent, DriveRequest] = Decider(
    initial=initial_drive, evolve=evolve_drive, decide=decide_drive
)
