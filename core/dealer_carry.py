"""What a dealer's command does, decided from what the shell read (pure).

The dealer desk (:mod:`core.dealer_desk`) asks the shell to carry out the commands that
need the log: ``ordini``, ``stato``, ``accetta``/``rifiuta``, ``pronto``, ``disponibile``/
``esaurito`` and ``alias``. The shell reads what :func:`needs` names (the relay the
command points at, the dealer's open relays, the dealer's own products) into
:class:`DeskReads`; :func:`carry_out` decides the dealer's answer and the writes: a
relay's events at the version read, with the customer's notice and the riders' alert, or
a catalogue event. Someone else's order reads as "not found", as an unknown one does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core import dealer_commands as dc
from core import delivery
from core import market as mk
from core.catalog import Product
from core.market import RelayExtras
from core.order_relay import RelayStage, RelayState, decide_dealer_answer, decide_ready
from events.market import ProductAliasAdded, StockChanged
from events.orders import OrderAccepted

LISTED = frozenset(("confirmed", "market_order_created", "relayed_to_dealer", "accepted", "ready"))
MAX_LISTED = 10
READY_WHICH = "Hai più ordini accettati: scrivi «pronto <numero>». Scrivi «ordini» per vederli."


@dataclass(frozen=True, slots=True)
class Needs:
    """The reads a command needs: the relay it names, the open relays, the products."""

    named: bool = False
    open: bool = False
    products: bool = False


@dataclass(frozen=True, slots=True)
class RelayRead:
    """One relay as the shell read it from its stream (``version`` 0: no such stream)."""

    state: RelayState
    extras: RelayExtras
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskReads:
    """What the shell read for one command (only what :func:`needs` asked for)."""

    named: RelayRead | None = None  # by the button's relay id, else by the order number
    open: tuple[RelayRead, ...] = ()  # the dealer's relays not closed, oldest first
    products: tuple[Product, ...] = ()  # the dealer's own products
    dealer_name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RiderAlert:
    """A push to the riders about the relay (the shell names it after relay and reason)."""

    reason: str
    title: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayChange:
    """A relay's events at the version read; ``step`` names their ids; the customer told."""

    relay: RelayState
    version: int
    step: str
    events: tuple[object, ...]
    alert: RiderAlert | None
    notice: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Carry:
    """The dealer's answer and what the command writes (nothing for a lookup)."""

    text: str
    ok: bool = True
    relay_id: str | None = None
    change: RelayChange | None = None
    catalog: StockChanged | ProductAliasAdded | None = None


def needs(command: dc.DealerCommand) -> Needs:
    """What must be read to carry ``command`` out."""
    verb, unnamed = command.verb, command.relay_id is None and command.number is None
    if verb == "ordini":
        return Needs(open=True)
    if verb in ("stato", "accetta", "rifiuta", "pronto"):
        return Needs(named=True, open=unnamed and verb != "stato")
    if verb in ("disponibile", "esaurito", "alias"):
        return Needs(products=True)
    return Needs()


def carry_out(
    command: dc.DealerCommand, dealer_id: str, phone: str, at: datetime, reads: DeskReads
) -> Carry:
    """The answer to ``command`` from ``dealer_id`` (writing from ``phone``) at ``at``."""
    match command.verb:
        case "ordini":
            return Carry(text=dc.orders_text(_listed(reads.open, dealer_id)))
        case "stato":
            return _status(command, dealer_id, reads.named)
        case "accetta" | "rifiuta":
            return _answer(command, dealer_id, at, reads)
        case "pronto":
            return _ready(command, dealer_id, at, reads)
        case "disponibile" | "esaurito":
            return _stock(command, dealer_id, phone, reads.products)
        case "alias":
            return _alias(command, dealer_id, phone, reads.products)
        case _:
            return Carry(text=dc.UNKNOWN_TEXT, ok=False)


def _listed(
    relays: tuple[RelayRead, ...], dealer_id: str
) -> list[tuple[int | None, RelayStage, Decimal, str]]:
    rows = []
    for read in relays:
        state = read.state
        if state.dealer_id == dealer_id and state.stage.value in LISTED:
            first = state.lines[0].name + (" e altro" if len(state.lines) > 1 else "")
            rows.append((read.extras.number, state.stage, state.total, first))
    return rows[-MAX_LISTED:]


def _in_stage(relays: tuple[RelayRead, ...], dealer_id: str, stage: RelayStage) -> list[RelayRead]:
    return [r for r in relays if r.state.dealer_id == dealer_id and r.state.stage is stage]


def _own(read: RelayRead | None, dealer_id: str) -> RelayRead | None:
    """The relay when it exists and is this dealer's (another's reads as not found)."""
    if read is None or read.version == 0 or read.state.dealer_id != dealer_id:
        return None
    return read


def _status(command: dc.DealerCommand, dealer_id: str, named: RelayRead | None) -> Carry:
    read = _own(named, dealer_id)
    if read is None or command.number is None:
        return Carry(text=dc.not_found_text(command.number), ok=False)
    rid = read.state.relay_id
    return Carry(text=dc.status_text(command.number, read.state.stage), relay_id=rid)


def _answer(command: dc.DealerCommand, dealer_id: str, at: datetime, reads: DeskReads) -> Carry:
    named = reads.named
    if named is None and command.relay_id is None and command.number is None:
        waiting = _in_stage(reads.open, dealer_id, RelayStage.RELAYED_TO_DEALER)
        if len(waiting) != 1:
            return Carry(text=dc.WHICH_ORDER if waiting else dc.NO_OPEN_ORDERS, ok=False)
        named = waiting[0]
    read = _own(named, dealer_id)
    if read is None:
        return Carry(text=dc.not_found_text(command.number), ok=False)
    state, number = read.state, read.extras.number
    accept = command.verb == "accetta"
    decided = decide_dealer_answer(state, accept=accept, reason=command.reason, now=at)
    if not decided:
        return Carry(text=dc.too_late_text(number, state.stage), relay_id=state.relay_id, ok=False)
    name = reads.dealer_name
    if isinstance(decided[0], OrderAccepted):
        body = f"Ordine n. {number} da ritirare presso {name}"
        alert = RiderAlert(reason="new_order", title="Nuovo ordine", body=body)
        notice = mk.accepted_text(number, name)
    else:
        alert, notice = None, mk.rejected_text(number, name, command.reason)
    change = RelayChange(
        relay=state,
        version=read.version,
        step="answer",
        events=tuple(decided),
        alert=alert,
        notice=notice,
    )
    return Carry(text=dc.answered_text(number, accept), relay_id=state.relay_id, change=change)


def _ready(command: dc.DealerCommand, dealer_id: str, at: datetime, reads: DeskReads) -> Carry:
    """``pronto N``: an accepted order is ready; the customer and the riders are told."""
    named = reads.named
    if named is None and command.number is None:
        accepted = _in_stage(reads.open, dealer_id, RelayStage.ACCEPTED)
        if len(accepted) != 1:
            return Carry(text=READY_WHICH if accepted else dc.NO_OPEN_ORDERS, ok=False)
        named = accepted[0]
    read = _own(named, dealer_id)
    if read is None:
        return Carry(text=dc.not_found_text(command.number), ok=False)
    state, number = read.state, read.extras.number
    decided = decide_ready(state, at)
    if not decided:
        words = dc.STAGE_NAMES[state.stage]
        text = delivery.not_ready_text(number, words)
        return Carry(text=text, relay_id=state.relay_id, ok=False)
    name = reads.dealer_name
    body = f"Ordine n. {number} pronto da ritirare presso {name}"
    change = RelayChange(
        relay=state,
        version=read.version,
        step="ready",
        events=tuple(decided),
        alert=RiderAlert(reason="order_ready", title="Ordine pronto", body=body),
        notice=delivery.ready_text(number, name),
    )
    return Carry(text=delivery.ready_ack_text(number), relay_id=state.relay_id, change=change)


def _product(command: dc.DealerCommand, products: tuple[Product, ...]) -> Product | Carry:
    """The one product the command names, or the answer saying why there is none."""
    found = dc.match_product(command.product or "", products)
    if not found:
        return Carry(text=dc.product_unknown_text(command.product or ""), ok=False)
    if len(found) > 1:
        return Carry(text=dc.product_ambiguous_text(found), ok=False)
    return found[0]


def _stock(
    command: dc.DealerCommand, dealer_id: str, phone: str, products: tuple[Product, ...]
) -> Carry:
    product = _product(command, products)
    if isinstance(product, Carry):
        return product
    stock = (
        command.quantity if command.verb == "disponibile" and command.quantity is not None else 0
    )
    changed = StockChanged(product_id=product.id, dealer_id=dealer_id, stock=stock, by=phone)
    return Carry(text=dc.stock_text(product, stock), catalog=changed)


def _alias(
    command: dc.DealerCommand, dealer_id: str, phone: str, products: tuple[Product, ...]
) -> Carry:
    product = _product(command, products)
    if isinstance(product, Carry):
        return product
    alias = command.alias or ""
    if alias.casefold() in (a.casefold() for a in product.aliases):
        return Carry(text=dc.alias_text(product, alias, known=True))
    added = ProductAliasAdded(product_id=product.id, dealer_id=dealer_id, alias=alias, by=phone)
    return Carry(text=dc.alias_text(product, alias, known=False), catalog=added)
