"""A dealer's command carried out (pure): the answer and the writes, from what was read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from core import dealer_commands as dc
from core import delivery
from core import market as mk
from core.catalog import Product
from core.dealer_carry import (
    READY_WHICH,
    Carry,
    DeskReads,
    Needs,
    RelayRead,
    carry_out,
    needs,
)
from core.relay_drive import RELAY_DRIVE
from events.delivery import OrderReady
from events.market import OrderNumberAssigned, ProductAliasAdded, StockChanged
from events.orders import OrderAccepted, OrderRejected
from tests.unit.test_order_relay_machine import (
    ASKED,
    CONFIRMED,
    CREATED,
    DRAFTED,
    RELAYED,
    RID,
    T0,
)

AT = T0 + timedelta(minutes=20)
DEALER = DRAFTED.dealer_id
PHONE = DRAFTED.dealer_phone
NUMBERED = OrderNumberAssigned(relay_id=RID, number=7)
WAITING = (DRAFTED, ASKED, CONFIRMED, CREATED, NUMBERED, RELAYED)
ACCEPTED = (*WAITING, OrderAccepted(relay_id=RID, accepted_at=T0))
CROC = Product(id="p-croc", dealer_id=DEALER, name="Crocchette", price=Decimal("1"), stock=3)


def read(*history: object) -> RelayRead:
    """The relay after ``history``, at its version."""
    view = RELAY_DRIVE.fold(RELAY_DRIVE.initial(f"order-{RID}"), history)  # type: ignore[arg-type]
    return RelayRead(view.relay, view.extras, len(history))


def carry(text: str, **reads: object) -> Carry:
    """``text`` from the relay's dealer at ``AT`` with the given reads."""
    given = DeskReads(dealer_name="Zampe Felici", **reads)  # type: ignore[arg-type]
    return carry_out(dc.parse_command(text), DEALER, PHONE, AT, given)


def test_each_command_reads_only_what_it_needs() -> None:
    """Orders list the open relays, a number names one, products are for stock and alias."""
    assert needs(dc.parse_command("ordini")) == Needs(open=True)
    assert needs(dc.parse_command("accetta 7")) == Needs(named=True)
    assert needs(dc.parse_command("accetta")) == Needs(named=True, open=True)
    assert needs(dc.parse_command("stato 7")) == Needs(named=True)
    assert needs(dc.DealerCommand(verb="stato")) == Needs(named=True)
    assert needs(dc.parse_command("esaurito crocchette")) == Needs(products=True)


def test_accepting_records_it_alerts_the_riders_and_tells_the_customer() -> None:
    """``OrderAccepted`` at the version read, a rider push, the customer's notice."""
    done = carry("accetta 7", named=read(*WAITING))
    assert done.change is not None
    assert done.change.events == (OrderAccepted(relay_id=RID, accepted_at=AT),)
    assert (done.change.version, done.change.step) == (len(WAITING), "answer")
    assert done.change.alert is not None
    assert done.change.alert.reason == "new_order"
    assert done.change.notice == mk.accepted_text(7, "Zampe Felici")
    assert done.text == dc.answered_text(7, True)


def test_rejecting_tells_the_customer_and_alerts_nobody() -> None:
    """A rejection carries the reason to the customer; riders are not pushed."""
    done = carry("rifiuta 7 chiuso", named=read(*WAITING))
    assert done.change is not None
    [rejected] = done.change.events
    assert isinstance(rejected, OrderRejected)
    assert done.change.alert is None


def test_another_dealers_order_reads_as_not_found() -> None:
    """A number of someone else's relay gives the same answer as an unknown one."""
    foreign = read(replace(DRAFTED, dealer_id="d-other"), *WAITING[1:])
    done = carry("accetta 7", named=foreign)
    assert (done.text, done.ok, done.change) == (dc.not_found_text(7), False, None)


def test_a_late_answer_is_told_too_late_and_writes_nothing() -> None:
    """An accepted relay cannot be accepted again."""
    done = carry("accetta 7", named=read(*ACCEPTED))
    assert (done.ok, done.change) == (False, None)
    assert done.text == dc.too_late_text(7, read(*ACCEPTED).state.stage)


def test_an_unnamed_answer_takes_the_one_waiting_order() -> None:
    """``accetta`` alone accepts the only relay waiting for this dealer, and asks otherwise."""
    one = carry("accetta", open=(read(*WAITING),))
    assert one.change is not None
    assert one.relay_id == RID
    assert carry("accetta", open=()).text == dc.NO_OPEN_ORDERS
    assert carry("accetta", open=(read(*WAITING), read(*WAITING))).text == dc.WHICH_ORDER


def test_ready_alerts_the_riders_and_tells_the_customer() -> None:
    """``pronto 7`` on an accepted order: ``OrderReady``, a push, the notice."""
    done = carry("pronto 7", named=read(*ACCEPTED))
    assert done.change is not None
    assert done.change.events == (OrderReady(relay_id=RID, ready_at=AT),)
    assert done.change.notice == delivery.ready_text(7, "Zampe Felici")
    assert carry("pronto", open=(read(*ACCEPTED), read(*ACCEPTED))).text == READY_WHICH


def test_a_relay_not_yet_accepted_is_not_ready() -> None:
    """``pronto`` before accepting says what stage the order is in."""
    done = carry("pronto 7", named=read(*WAITING))
    assert (done.ok, done.change) == (False, None)


def test_sold_out_sets_the_stock_to_zero() -> None:
    """``esaurito`` records a zero stock for the dealer's matching product."""
    done = carry("esaurito crocchette", products=(CROC,))
    assert done.catalog == StockChanged(product_id="p-croc", dealer_id=DEALER, stock=0, by=PHONE)


def test_an_unknown_product_writes_nothing() -> None:
    """No product of this dealer matches: the answer says so, nothing is written."""
    done = carry("esaurito zucchine", products=(CROC,))
    assert (done.ok, done.catalog) == (False, None)


def test_a_new_alias_is_recorded_and_a_known_one_is_not() -> None:
    """``alias`` adds a name once; a name the product already has (in any case) changes nothing."""
    added = carry("alias croccantini = crocchette", products=(CROC,))
    assert isinstance(added.catalog, ProductAliasAdded)
    known = carry("alias X = crocchette", products=(replace(CROC, aliases=("x",)),))
    assert known.catalog is None


def test_the_order_list_shows_this_dealers_open_orders() -> None:
    """``ordini`` lists open relays of this dealer with their numbers."""
    done = carry("ordini", open=(read(*WAITING),))
    assert done.text == dc.orders_text(
        [(7, read(*WAITING).state.stage, Decimal("37.80"), "Crocchette")]
    )
