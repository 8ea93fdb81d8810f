"""The relay after the dealer's answer: ready, picked up, and the delivery terms it carries."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.dealer_commands import HELP_TEXT, parse_command
from core.delivery import (
    dealer_delivery_text,
    fee_shares,
    fold_terms,
    items_line,
    template_params,
)
from core.order_relay import RelayStage, RelayState, decide_market_status, decide_ready
from events.conversation import PricedLine
from events.delivery import DeliveryScheduled, OrderPickedUp, OrderReady

T = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
LINE = PricedLine(
    product_id="p-lett", dealer_id="d-pet", name="Lettiera", quantity=2,
    unit_price=Decimal("9.90"), line_total=Decimal("19.80"),
)  # fmt: skip


def relay(stage: RelayStage) -> RelayState:
    """A relay in ``stage``."""
    return RelayState(relay_id="r1", stage=stage)


def test_pronto_reads_as_the_ready_command() -> None:
    """ "pronto 12" (and typos) name the order; the help lists it."""
    assert parse_command("pronto 12").verb == "pronto"
    assert parse_command("pronto 12").number == 12
    assert parse_command("Pronta").number is None
    assert "pronto <numero>" in HELP_TEXT


def test_only_an_accepted_order_can_be_ready() -> None:
    """Accepted -> ready; relayed (not yet accepted) or delivered: nothing."""
    assert decide_ready(relay(RelayStage.ACCEPTED), T) == [OrderReady(relay_id="r1", ready_at=T)]
    assert decide_ready(relay(RelayStage.RELAYED_TO_DEALER), T) == []
    assert decide_ready(relay(RelayStage.DELIVERED), T) == []


def test_the_market_pick_up_follows_accepted_or_ready_once() -> None:
    """``picked_up`` after ready records the pick-up; a repeat finds nothing to do."""
    picked = decide_market_status(relay(RelayStage.READY), "picked_up", T)
    assert picked == [OrderPickedUp(relay_id="r1", picked_up_at=T)]
    assert decide_market_status(relay(RelayStage.PICKED_UP), "picked_up", T) == []
    assert decide_market_status(relay(RelayStage.PICKED_UP), "delivered", T) != []


def test_one_delivery_fee_per_checkout() -> None:
    """The first relay of a cart carries the fee, the others none."""
    assert fee_shares(3, Decimal("2.90")) == (Decimal("2.90"), Decimal("0.00"), Decimal("0.00"))


def test_terms_fold_and_show_in_the_dealer_message() -> None:
    """DeliveryScheduled gives the terms; the dealer reads address, time, payment and totals."""
    scheduled = DeliveryScheduled(
        relay_id="r1", asap=False, deliver_at=T, when_text="oggi alle 18:00",
        payment="carta", fee=Decimal("2.90"), total=Decimal("22.70"),
    )  # fmt: skip
    terms = fold_terms([scheduled])
    assert terms is not None
    assert fold_terms([]) is None
    text = dealer_delivery_text("via Torino 15, Milano", terms)
    for part in ("via Torino 15, Milano", "oggi alle 18:00", "carta", "€ 2,90", "€ 22,70"):
        assert part in text


def test_template_parameters_carry_number_items_and_total() -> None:
    """The first-notice template: number, items, total (items cut to fit a parameter)."""
    assert template_params(12, [LINE], Decimal("22.70")) == ("12", "2 × Lettiera", "€ 22,70")
    long = items_line([LINE] * 200)
    assert len(long) <= 900
    assert long.endswith("…")
