"""The order relay's drive (pure): market order, order number, dealer message, one step each."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from core import market as mk
from core import relay_requests as rq
from core.decider import Decision
from core.relay_drive import (
    DEALER_TEMPLATE,
    NAMES,
    RELAY_DRIVE,
    Drive,
    DriveEvent,
    DriveView,
    Told,
)
from events.base import ERASED
from events.conversation import ReplyKind
from events.delivery import DeliveryScheduled
from events.market import MarketOrderDeferred, OrderNumberAssigned
from events.notify import PushRequested
from events.orders import MarketOrderCreated, OrderFailed, OrderRelayedToDealer
from tests.unit.test_order_relay_machine import (
    ASKED,
    CONFIRMED,
    CREATED,
    DRAFTED,
    RELAYED,
    RID,
    T0,
)

NOW = T0 + timedelta(minutes=5)
PHONE = "+393281234567"
DEALER = "+390212345678"
NUMBERED = OrderNumberAssigned(relay_id=RID, number=7)
SCHEDULED = DeliveryScheduled(
    relay_id=RID, asap=True, deliver_at=None, when_text="appena possibile",
    payment="contanti", fee=Decimal("3.00"), total=Decimal("40.80"),
)  # fmt: skip
ORDERED = (DRAFTED, ASKED, CONFIRMED)


def view(*history: object) -> DriveView:
    """The relay after ``history``."""
    return RELAY_DRIVE.fold(RELAY_DRIVE.initial(f"order-{RID}"), history)  # type: ignore[arg-type]


def decide(
    history: tuple[object, ...], *recorded: DriveEvent, market: bool = False, attempts: int = 6
) -> Decision[DriveEvent, rq.DriveRequest]:
    """One decision at ``NOW`` with ``recorded`` outcomes; ids are the :data:`NAMES` themselves."""
    given = Drive(market=market, attempts=attempts, retry=timedelta(seconds=30))
    return RELAY_DRIVE.decide(view(*history), given, recorded, NOW, iter(NAMES))


def told(decision: Decision[DriveEvent, rq.DriveRequest]) -> list[Told]:
    """The messages the decision queues in conversations."""
    return [e for e in decision.events if isinstance(e, Told)]


def test_a_confirmed_relay_first_asks_who_the_customer_is() -> None:
    """Without delivery terms the market order needs only the customer's phone."""
    assert decide(ORDERED).requests == (rq.ResolveCustomer(DRAFTED.customer_key),)


def test_a_checked_out_relay_also_asks_for_the_address() -> None:
    """With delivery terms the checkout's address is read too."""
    asked = decide((*ORDERED, SCHEDULED)).requests
    assert rq.FindAddress(DRAFTED.customer_key, DRAFTED.cart_id) in asked


def test_the_market_order_carries_the_phone_and_the_delivery() -> None:
    """Once both are in hand the market is called with them."""
    decision = decide(
        (*ORDERED, SCHEDULED), rq.CustomerResolved(PHONE), rq.AddressFound("Via Roma 1")
    )
    [request] = decision.requests
    assert isinstance(request, rq.CreateMarketOrder)
    assert request.order.customer == PHONE
    assert request.order.delivery is not None
    assert (request.order.delivery.address, request.order.delivery.fee) == (
        "Via Roma 1",
        Decimal("3.00"),
    )


def test_an_erased_customer_reaches_the_market_as_erased() -> None:
    """No phone any more: the market gets the erased marker, not a pseudonym."""
    [request] = decide(ORDERED, rq.CustomerResolved(None)).requests
    assert isinstance(request, rq.CreateMarketOrder)
    assert request.order.customer == ERASED


def test_the_market_order_id_is_recorded() -> None:
    """An answered market records ``MarketOrderCreated`` and nothing else."""
    answered = rq.MarketAnswered(market_order_id="mo-9")
    decision = decide(ORDERED, rq.CustomerResolved(PHONE), answered)
    assert decision.events == (MarketOrderCreated(relay_id=RID, market_order_id="mo-9"),)


def test_a_market_that_is_down_defers_and_tells_the_customer() -> None:
    """The first transient failure parks the order for the base wait; the customer is told."""
    down = rq.MarketAnswered(error="503", transient=True)
    deferred, notice = decide(ORDERED, rq.CustomerResolved(PHONE), down).events
    assert deferred == MarketOrderDeferred(
        relay_id=RID, attempt=1, error="503", retry_at=NOW + timedelta(seconds=30)
    )
    assert isinstance(notice, Told)
    assert (notice.key, notice.message.outbound_id) == (DRAFTED.customer_key, "market-down")
    assert notice.message.text == mk.MARKET_DOWN_TEXT


def test_a_market_down_past_the_attempts_fails_the_relay() -> None:
    """The last allowed attempt fails for good: support is pushed, the customer told."""
    down = rq.MarketAnswered(error="503", transient=True)
    history = (*ORDERED, MarketOrderDeferred(relay_id=RID, attempt=1, error="503", retry_at=T0))
    events = decide(history, rq.CustomerResolved(PHONE), down, market=True, attempts=2).events
    failed, alert, notice = events
    assert isinstance(failed, OrderFailed)
    assert failed.step == "market_order"
    assert isinstance(alert, PushRequested)
    assert (alert.notification_id, alert.audience) == ("push:market_order_failed", "support")
    assert isinstance(notice, Told)
    assert notice.message.text == mk.MARKET_FAILED_TEXT


def test_a_refused_order_fails_at_once() -> None:
    """A permanent refusal is not deferred, whatever the attempts left."""
    refused = rq.MarketAnswered(error="400 bad order")
    events = decide(ORDERED, rq.CustomerResolved(PHONE), refused).events
    assert isinstance(events[0], OrderFailed)
    assert not any(isinstance(e, MarketOrderDeferred) for e in events)


def test_a_deferred_order_waits_for_its_timer() -> None:
    """After a deferral only the market-retry timer (``market``) tries again."""
    history = (*ORDERED, MarketOrderDeferred(relay_id=RID, attempt=1, error="503", retry_at=T0))
    assert decide(history) == Decision()
    assert decide(history, market=True).requests == (rq.ResolveCustomer(DRAFTED.customer_key),)


def test_the_next_order_number_follows_the_last_one_handed_out() -> None:
    """A created market order asks for the count, then takes the next number."""
    history = (*ORDERED, CREATED)
    assert decide(history).requests == (rq.TakeNumber(),)
    assert decide(history, rq.NumberTaken(4)).events == (
        OrderNumberAssigned(relay_id=RID, number=5),
    )


def test_a_dealer_without_a_phone_fails_the_relay() -> None:
    """Nobody to relay to: the relay fails, support is pushed, the customer told."""
    history = (replace(DRAFTED, dealer_phone=""), ASKED, CONFIRMED, CREATED, NUMBERED)
    failed, alert, notice = decide(history).events
    assert failed == OrderFailed(relay_id=RID, step="relay", error="dealer has no phone")
    assert isinstance(alert, PushRequested)
    assert alert.notification_id == "push:relay_failed"
    assert isinstance(notice, Told)


def test_the_dealer_message_asks_when_the_dealer_last_wrote() -> None:
    """The 24-hour window decides between buttons and the template: it is read first."""
    history = (*ORDERED, CREATED, NUMBERED)
    assert decide(history).requests == (rq.SeeDealer(DEALER, DRAFTED.dealer_id),)


def test_inside_the_window_the_dealer_gets_buttons_and_the_customer_the_number() -> None:
    """Buttons with the delivery block; the customer's notice names number, shop and total."""
    history = (*ORDERED, SCHEDULED, CREATED, NUMBERED)
    seen = rq.DealerSeen(NOW - timedelta(hours=1), "Zampe Felici")
    decision = decide(history, seen, rq.AddressFound("Via Roma 1"))
    relayed = decision.events[0]
    assert relayed == OrderRelayedToDealer(
        relay_id=RID, outbound_id="dealer-message", relayed_at=NOW
    )
    dealer, customer = told(decision)
    assert (dealer.key, dealer.message.kind) == (DEALER, ReplyKind.BUTTONS)
    assert "Via Roma 1" in dealer.message.text
    assert customer.message.text == mk.relayed_text(7, "Zampe Felici", Decimal("40.80"))


def test_outside_the_window_the_dealer_gets_the_template() -> None:
    """A dealer silent for more than 24 hours can only receive the approved template."""
    history = (*ORDERED, CREATED, NUMBERED)
    seen = rq.DealerSeen(NOW - timedelta(days=2), "Zampe Felici")
    dealer, _customer = told(decide(history, seen))
    assert (dealer.message.kind, dealer.message.text) == (ReplyKind.TEMPLATE, DEALER_TEMPLATE)
    assert dealer.message.template_params[0] == "7"


def test_the_dealer_message_is_sealed_with_a_pseudonymous_customer() -> None:
    """It carries the customer's address, so erasing them must hide it (ADR 0017)."""
    history = (replace(DRAFTED, customer_key="prs_abc"), ASKED, CONFIRMED, CREATED, NUMBERED)
    seen = rq.DealerSeen(NOW, "Zampe Felici")
    dealer, customer = told(decide(history, seen))
    assert (dealer.sealed_with, customer.sealed_with) == (("prs_abc",), ())


def test_a_relayed_order_needs_nothing_more() -> None:
    """Past the dealer message the drive has no step left."""
    assert decide((*ORDERED, CREATED, NUMBERED, RELAYED)) == Decision()


def test_the_state_keeps_the_terms_number_and_deferrals() -> None:
    """All three halves follow the stored events."""
    folded = view(*ORDERED, SCHEDULED, CREATED, NUMBERED)
    assert folded.terms is not None
    assert (folded.terms.total, folded.extras.number) == (Decimal("40.80"), 7)
