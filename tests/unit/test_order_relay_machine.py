"""The order relay: its table, pricing, ``evolve``, timers and the dealer's answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from core.catalog import Catalog, Dealer, Product
from core.machines import IllegalTransitionError
from core.order_relay import (
    RELAY_MOVES,
    RelayStage,
    RelayState,
    RelayTimeouts,
    cancel_by_agent,
    decide_cart_outcome,
    decide_dealer_answer,
    decide_market_status,
    decide_timers,
    escalation_due,
    evolve_relay,
    expiry_due,
    fold_relay,
    next_relay_stage,
    record_market_order,
    record_relayed,
    relay_diagram,
    reminder_due,
    start_relays,
    to_seed_status,
)
from core.pricing import PricingError, price_cart, split_by_dealer
from core.understanding import CartLine
from events.codec import decode_payload, encode_payload
from events.conversation import CartCancelled, CartConfirmed, CartProposed, PricedLine
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

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
CATALOG = Catalog.of(
    [
        Dealer(id="d-zampe", name="Zampe Felici", category="pet", phone="+390212345678"),
        Dealer(id="d-fiori", name="Fiori di Brera", category="florist", phone="+390298765432"),
    ],
    [
        Product(
            id="p-croc", dealer_id="d-zampe", name="Crocchette", price=Decimal("18.90"), stock=9
        ),
        Product(id="p-snack", dealer_id="d-zampe", name="Snack", price=Decimal("0.10"), stock=99),
        Product(id="p-rose", dealer_id="d-fiori", name="Rose", price=Decimal("25.00"), stock=4),
    ],
)
LINE = PricedLine(
    product_id="p-croc", dealer_id="d-zampe", name="Crocchette",
    quantity=2, unit_price=Decimal("18.90"), line_total=Decimal("37.80"),
)  # fmt: skip
ROSE = PricedLine(
    product_id="p-rose", dealer_id="d-fiori", name="Rose",
    quantity=1, unit_price=Decimal("25.00"), line_total=Decimal("25.00"),
)  # fmt: skip
RID = "relay-1"
DRAFTED = OrderDrafted(
    relay_id=RID, customer_key="+393281234567", cart_id="cart-1", dealer_id="d-zampe",
    dealer_phone="+390212345678", lines=(LINE,), total=Decimal("37.80"),
)  # fmt: skip
ASKED = OrderConfirmationRequested(relay_id=RID, requested_at=T0)
CONFIRMED = OrderConfirmed(relay_id=RID, confirmed_at=T0)
CREATED = MarketOrderCreated(relay_id=RID, market_order_id="mo-42")
RELAYED = OrderRelayedToDealer(relay_id=RID, outbound_id="out-1", relayed_at=T0)
REMINDED = DealerReminded(relay_id=RID, outbound_id="out-2", reminded_at=T0)


def ids() -> Iterator[str]:
    """Deterministic new ids."""
    return (f"id-{n}" for n in count(1))


@dataclass(frozen=True)
class Given:
    """A relay folded from its stream."""

    state: RelayState

    def then_stage(self, stage: RelayStage) -> None:
        """The folded stage is ``stage``."""
        assert self.state.stage is stage


def given(*history: object) -> Given:
    """A relay with ``history`` recorded."""
    return Given(fold_relay(RelayState(relay_id=RID), history))


# --------------------------------------------------------------------------- the table

STAGES = [s.value for s in RelayStage]
TRIGGERS = sorted({m.trigger for m in RELAY_MOVES})
ALLOWED = {(src, m.trigger): m.dest for m in RELAY_MOVES for src in m.sources}
FORBIDDEN = [(s, t) for s in STAGES for t in TRIGGERS if (s, t) not in ALLOWED]


@pytest.mark.parametrize(("source", "trigger"), sorted(ALLOWED))
def test_allowed_relay_move_leads_to_its_destination(source: str, trigger: str) -> None:
    """Every row of the relay table is honoured."""
    assert next_relay_stage(RelayStage(source), trigger) == RelayStage(ALLOWED[source, trigger])


@pytest.mark.parametrize(("source", "trigger"), FORBIDDEN)
def test_forbidden_relay_move_raises(source: str, trigger: str) -> None:
    """Anything else is an illegal transition."""
    with pytest.raises(IllegalTransitionError):
        next_relay_stage(RelayStage(source), trigger)


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        (RelayStage.DRAFT, "pending"),
        (RelayStage.AWAITING_CONFIRMATION, "pending"),
        (RelayStage.CONFIRMED, "confirmed"),
        (RelayStage.MARKET_ORDER_CREATED, "created"),
        (RelayStage.RELAYED_TO_DEALER, "created"),
        (RelayStage.ACCEPTED, "created"),
        (RelayStage.REJECTED, "failed"),
        (RelayStage.FAILED, "failed"),
        (RelayStage.CANCELLED, "failed"),
        (RelayStage.EXPIRED, "failed"),
        (RelayStage.DELIVERED, "created"),
    ],
)
def test_every_stage_maps_to_a_seed_status(stage: RelayStage, status: str) -> None:
    """The original Supabase status is kept beside the finer stage."""
    assert to_seed_status(stage) == status


def test_relay_diagram_draws_every_move() -> None:
    """One arrow per (source, trigger), plus the initial one."""
    assert relay_diagram().count("-->") == len(ALLOWED) + 1


# --------------------------------------------------------------------------- pricing


def test_price_cart_uses_catalogue_prices_exactly() -> None:
    """Three 0.10 snacks cost exactly 0.30; totals are Decimal sums."""
    cart = price_cart(
        [CartLine(product_id="p-snack", quantity=3), CartLine(product_id="p-croc", quantity=2)],
        CATALOG,
    )
    assert [line.line_total for line in cart.lines] == [Decimal("0.30"), Decimal("37.80")]
    assert cart.total == Decimal("38.10")


def test_price_cart_refuses_unknown_products() -> None:
    """A product missing from the catalogue cannot be priced."""
    with pytest.raises(PricingError):
        price_cart([CartLine(product_id="p-nope", quantity=1)], CATALOG)


def test_price_cart_refuses_zero_quantities() -> None:
    """Quantities start at one."""
    with pytest.raises(PricingError):
        price_cart([CartLine(product_id="p-croc", quantity=0)], CATALOG)


def test_split_by_dealer_groups_lines_in_order_of_appearance() -> None:
    """A cart across two shops becomes two shares."""
    lines = [
        CartLine(product_id="p-croc", quantity=1),
        CartLine(product_id="p-rose", quantity=1),
        CartLine(product_id="p-snack", quantity=5),
    ]
    shares = split_by_dealer(lines, CATALOG)
    assert [(d, [x.product_id for x in ls]) for d, ls in shares] == [
        ("d-zampe", ["p-croc", "p-snack"]),
        ("d-fiori", ["p-rose"]),
    ]


def test_start_relays_opens_one_relay_per_dealer() -> None:
    """Each dealer gets its own relay, priced, awaiting the confirmation."""
    proposal = CartProposed(cart_id="cart-1", lines=(LINE, ROSE), total=Decimal("62.80"))
    starts = start_relays(proposal, "+393281234567", CATALOG, T0, ids())
    assert [s.relay_id for s in starts] == ["id-1", "id-2"]
    drafted = [s.events[0] for s in starts]
    assert [(d.dealer_phone, d.total) for d in drafted if isinstance(d, OrderDrafted)] == [
        ("+390212345678", Decimal("37.80")),
        ("+390298765432", Decimal("25.00")),
    ]
    state = fold_relay(RelayState(relay_id="id-1"), starts[0].events)
    assert state.stage is RelayStage.AWAITING_CONFIRMATION


# --------------------------------------------------------------------------- evolve and decide


def test_happy_path_folds_to_accepted() -> None:
    """Drafted to accepted, step by step."""
    accepted = OrderAccepted(relay_id=RID, accepted_at=T0)
    given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, accepted).then_stage(RelayStage.ACCEPTED)


def test_customer_confirmation_confirms_the_relay() -> None:
    """CartConfirmed for this relay's cart confirms it."""
    state = given(DRAFTED, ASKED).state
    assert decide_cart_outcome(state, CartConfirmed(cart_id="cart-1", wamid="w"), T0) == [
        OrderConfirmed(relay_id=RID, confirmed_at=T0)
    ]


def test_customer_cancellation_cancels_the_relay() -> None:
    """CartCancelled cancels with the customer's reason."""
    state = given(DRAFTED, ASKED).state
    assert decide_cart_outcome(state, CartCancelled(cart_id="cart-1", reason="customer"), T0) == [
        OrderCancelled(relay_id=RID, reason="customer")
    ]


def test_outcome_of_another_cart_is_ignored() -> None:
    """Only this relay's cart counts."""
    state = given(DRAFTED, ASKED).state
    assert decide_cart_outcome(state, CartConfirmed(cart_id="cart-9", wamid=None), T0) == []


def test_late_confirmation_of_an_expired_relay_is_ignored() -> None:
    """A fact arriving too late never raises; it changes nothing."""
    state = given(DRAFTED, ASKED, OrderExpired(relay_id=RID, expired_at=T0)).state
    assert decide_cart_outcome(state, CartConfirmed(cart_id="cart-1", wamid=None), T0) == []


def test_market_order_failure_fails_the_relay() -> None:
    """A refused market order is recorded as a failure of that step."""
    state = given(DRAFTED, ASKED, CONFIRMED).state
    assert record_market_order(state, market_order_id=None, error="HTTP 503") == [
        OrderFailed(relay_id=RID, step="market_order", error="HTTP 503")
    ]


def test_relayed_after_market_order() -> None:
    """The dealer message is recorded once the market order exists."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED).state
    assert record_relayed(state, "out-1", T0) == [RELAYED]


def test_dealer_accepts() -> None:
    """Accept from relayed_to_dealer."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    assert decide_dealer_answer(state, accept=True, reason=None, now=T0) == [
        OrderAccepted(relay_id=RID, accepted_at=T0)
    ]


def test_dealer_rejects_with_a_reason() -> None:
    """Reject keeps the dealer's reason."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    assert decide_dealer_answer(state, accept=False, reason="esaurito", now=T0) == [
        OrderRejected(relay_id=RID, reason="esaurito", rejected_at=T0)
    ]


def test_second_dealer_answer_is_ignored() -> None:
    """Answering twice on WhatsApp changes nothing and never raises."""
    state = given(
        DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, OrderAccepted(relay_id=RID, accepted_at=T0)
    )
    assert decide_dealer_answer(state.state, accept=False, reason=None, now=T0) == []


def test_agent_cannot_cancel_an_accepted_order() -> None:
    """Dashboard cancellation after acceptance is a 409."""
    state = given(
        DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, OrderAccepted(relay_id=RID, accepted_at=T0)
    )
    with pytest.raises(IllegalTransitionError):
        cancel_by_agent(state.state, agent="a", reason="cliente")


def test_agent_cancels_a_relayed_order() -> None:
    """Before the dealer answers, an agent may cancel."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    assert cancel_by_agent(state, agent="a", reason="cliente") == [
        OrderCancelled(relay_id=RID, reason="cliente", by="a")
    ]


# --------------------------------------------------------------------------- timers


def test_confirmation_not_yet_expired_at_twenty_nine_minutes() -> None:
    """The default timeout is 30 minutes."""
    assert not expiry_due(given(DRAFTED, ASKED).state, T0 + timedelta(minutes=29, seconds=59))


def test_confirmation_expires_at_thirty_minutes() -> None:
    """At 30 minutes the relay is due to expire."""
    assert expiry_due(given(DRAFTED, ASKED).state, T0 + timedelta(minutes=30))


def test_expiry_timeout_is_configurable() -> None:
    """A shorter timeout expires earlier."""
    assert expiry_due(given(DRAFTED, ASKED).state, T0 + timedelta(minutes=5), timedelta(minutes=5))


def test_confirmed_relay_never_expires() -> None:
    """Expiry only concerns unconfirmed relays."""
    assert not expiry_due(given(DRAFTED, ASKED, CONFIRMED).state, T0 + timedelta(days=1))


def test_timer_expires_an_unconfirmed_relay() -> None:
    """decide_timers records the expiry."""
    later = T0 + timedelta(minutes=31)
    assert decide_timers(given(DRAFTED, ASKED).state, later, ids()) == [
        OrderExpired(relay_id=RID, expired_at=later)
    ]


def test_dealer_reminder_is_due_after_ten_minutes() -> None:
    """A silent dealer is reminded after 10 minutes, not before."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    assert not reminder_due(state, T0 + timedelta(minutes=9))
    assert reminder_due(state, T0 + timedelta(minutes=10))


def test_timer_reminds_a_silent_dealer() -> None:
    """The reminder gets a new outbound id."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    later = T0 + timedelta(minutes=10)
    assert decide_timers(state, later, ids()) == [
        DealerReminded(relay_id=RID, outbound_id="id-1", reminded_at=later)
    ]


def test_support_is_alerted_after_the_reminder() -> None:
    """Ten minutes after the reminder, support is told, once."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, REMINDED).state
    later = T0 + timedelta(minutes=10)
    assert decide_timers(state, later, ids()) == [
        OrderEscalated(relay_id=RID, reason="dealer_silent", escalated_at=later)
    ]
    escalated = evolve_relay(state, OrderEscalated(relay_id=RID, reason="x", escalated_at=later))
    assert not escalation_due(escalated, later + timedelta(hours=1))


def test_dealer_timeouts_are_configurable() -> None:
    """A shorter reminder delay fires earlier."""
    state = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    quick = RelayTimeouts(dealer_reminder=timedelta(minutes=2))
    assert decide_timers(state, T0 + timedelta(minutes=2), ids(), quick) != []


def test_nothing_is_due_for_an_accepted_relay() -> None:
    """Terminal relays have no timers."""
    state = given(
        DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, OrderAccepted(relay_id=RID, accepted_at=T0)
    )
    assert decide_timers(state.state, T0 + timedelta(days=2), ids()) == []


# --------------------------------------------------------------------------- properties

RELAY_EVENTS: list[object] = [
    DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, REMINDED,
    OrderEscalated(relay_id=RID, reason="x", escalated_at=T0),
    OrderAccepted(relay_id=RID, accepted_at=T0),
    OrderRejected(relay_id=RID, reason=None, rejected_at=T0),
    OrderFailed(relay_id=RID, step="relay", error="x"),
    OrderCancelled(relay_id=RID, reason="customer"),
    OrderExpired(relay_id=RID, expired_at=T0),
    CartConfirmed(cart_id="cart-1", wamid=None),
]  # fmt: skip


@settings(max_examples=200, deadline=None)
@hypothesis_given(st.lists(st.sampled_from(RELAY_EVENTS), max_size=30))
def test_relay_evolve_never_raises(events: list[object]) -> None:
    """Any order of stored events folds to a known stage."""
    assert fold_relay(RelayState(relay_id=RID), events).stage in set(RelayStage)


COMMANDS = ["confirm", "cancel", "market", "market_fail", "relay", "timer", "accept", "reject"]


@settings(max_examples=100, deadline=None)
@hypothesis_given(st.lists(st.tuples(st.sampled_from(COMMANDS), st.integers(0, 1200)), max_size=20))
def test_relay_replay_equals_live(steps: list[tuple[str, int]]) -> None:
    """Folding the stored relay stream reproduces the live state."""
    live, stream, now, new_ids = given(DRAFTED, ASKED).state, [DRAFTED, ASKED], T0, ids()
    for command, gap in steps:
        now += timedelta(seconds=gap)
        decided = _live_step(live, command, now, new_ids)
        live = fold_relay(live, decided)
        stream += decided
    stored = [decode_payload(e.TYPE, e.VERSION, encode_payload(e)) for e in stream]  # type: ignore[attr-defined]
    assert fold_relay(RelayState(relay_id=RID), stored) == live


def _live_step(
    state: RelayState, command: str, now: datetime, new_ids: Iterator[str]
) -> list[object]:
    if command == "confirm":
        return decide_cart_outcome(state, CartConfirmed(cart_id="cart-1", wamid=None), now)
    if command == "cancel":
        return decide_cart_outcome(state, CartCancelled(cart_id="cart-1", reason="customer"), now)
    if command.startswith("market"):
        created = None if command == "market_fail" else "mo-1"
        return record_market_order(state, market_order_id=created, error="boom")
    if command == "relay":
        return record_relayed(state, next(new_ids), now)
    if command == "timer":
        return decide_timers(state, now, new_ids)
    return decide_dealer_answer(state, accept=command == "accept", reason=None, now=now)


# --------------------------------------------------------------------------- delivery


def test_market_reports_delivery_of_an_accepted_order() -> None:
    """«delivered» records OrderDelivered at the market's time; the stage follows."""
    state = given(
        DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, OrderAccepted(relay_id=RID, accepted_at=T0)
    ).state
    later = T0 + timedelta(hours=1)
    decided = decide_market_status(state, "delivered", later)
    assert decided == [OrderDelivered(relay_id=RID, delivered_at=later)]
    given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, *decided).then_stage(RelayStage.DELIVERED)


def test_delivery_is_decided_once_and_other_statuses_change_nothing() -> None:
    """A repeated «delivered» and «in_delivery» give no decision."""
    delivered = OrderDelivered(relay_id=RID, delivered_at=T0)
    done = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED, delivered).state
    assert decide_market_status(done, "delivered", T0) == []
    relayed = given(DRAFTED, ASKED, CONFIRMED, CREATED, RELAYED).state
    assert decide_market_status(relayed, "in_delivery", T0) == []


def test_a_cancelled_relay_is_never_delivered() -> None:
    """A late «delivered» for a cancelled relay is a fact with no consequence."""
    cancelled = given(DRAFTED, ASKED, OrderCancelled(relay_id=RID, reason="customer")).state
    assert decide_market_status(cancelled, "delivered", T0) == []
