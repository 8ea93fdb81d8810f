"""The checkout, pure: after the customer accepts the items, collect address, time, payment.

The conversation enters ``checkout`` with :class:`~events.checkout.CheckoutStarted`
(recorded with ``CartConfirmed``). Each turn may give any of the three details, in any
order or all at once; the bot records what it read (``CheckoutDetailsGiven``) and asks
only for what is missing. An address outside the delivery zones is refused politely; a
time outside opening hours gets the next opening slot proposed, which a "sì" accepts.
When all three are known, ``CheckoutCompleted`` carries them with the fee and the total
with delivery, and the order relays start (ADR 0010). A returning customer is offered
the last address ("Consegno in via … come l'ultima volta?").

Bad input never changes the state: an address of thousands of characters or a location
without coordinates gets a clear Italian answer and no event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from core import checkout_texts as texts
from core.business_facts import ShopFacts, in_zone, is_open, next_opening
from core.nlu.checkout_parse import (
    MAX_ADDRESS,
    Details,
    address_from_location,
    payment_of,
    read_details,
)
from core.nlu.when import ROME, When, describe, read_when
from core.understanding import DeliveryHints
from events.checkout import CheckoutCompleted, CheckoutDetailsGiven, CheckoutStarted
from events.conversation import (
    CartCancelled,
    ConversationReleased,
    ConversationResolved,
    OptedOut,
    PricedLine,
)
from events.whatsapp import Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkout:
    """The delivery details collected so far for one accepted cart."""

    cart_id: str
    lines: tuple[PricedLine, ...] = ()
    items_total: Decimal
    fee: Decimal
    offered: str | None = None  # the last address, offered back to a returning customer
    address: str | None = None
    asap: bool = False
    deliver_at: datetime | None = None
    when_text: str | None = None
    payment: str | None = None
    proposed_at: datetime | None = None
    proposed_text: str | None = None

    @property
    def has_when(self) -> bool:
        """True once a delivery time is agreed."""
        return self.asap or self.deliver_at is not None

    @property
    def complete(self) -> bool:
        """True when address, time and payment are all known."""
        return self.address is not None and self.has_when and self.payment is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutMemory:
    """The open checkout (if any) and the address of the last completed one."""

    current: Checkout | None = None
    last_address: str | None = None


_CLOSES = (CartCancelled, ConversationReleased, ConversationResolved, OptedOut)
FOLDED = (CheckoutStarted, CheckoutDetailsGiven, CheckoutCompleted, *_CLOSES)


def evolve(memory: CheckoutMemory, event: object) -> CheckoutMemory:
    """Fold one stored event; total (a foreign or late event leaves the memory as is)."""
    current = memory.current
    if isinstance(event, CheckoutStarted):
        started = Checkout(
            cart_id=event.cart_id,
            lines=event.lines,
            items_total=event.items_total,
            fee=event.fee,
            offered=memory.last_address,
        )
        return replace(memory, current=started)
    if isinstance(event, CheckoutCompleted):
        return CheckoutMemory(current=None, last_address=event.address)
    if current is None:
        return memory
    if isinstance(event, CheckoutDetailsGiven) and event.cart_id == current.cart_id:
        return replace(memory, current=_given(current, event))
    if isinstance(event, CartCancelled) and event.cart_id != current.cart_id:
        return memory
    if isinstance(event, _CLOSES):
        return replace(memory, current=None)
    return memory


def _given(c: Checkout, e: CheckoutDetailsGiven) -> Checkout:
    if e.address is not None:
        c = replace(c, address=e.address)
    if e.payment is not None:
        c = replace(c, payment=e.payment)
    if e.asap or e.deliver_at is not None:
        c = replace(c, asap=e.asap, deliver_at=e.deliver_at, when_text=e.when_text)
        c = replace(c, proposed_at=None, proposed_text=None)
    if e.proposed_at is not None:
        c = replace(c, proposed_at=e.proposed_at, proposed_text=e.proposed_text)
    return c


def start(
    cart_id: str, lines: tuple[PricedLine, ...], total: Decimal, facts: ShopFacts
) -> CheckoutStarted:
    """The event that opens the checkout of an accepted cart."""
    return CheckoutStarted(cart_id=cart_id, lines=lines, items_total=total, fee=facts.fee)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What one checkout turn records and answers."""

    events: tuple[object, ...]
    text: str


def decide(
    c: Checkout,
    text: str,
    location: Location | None,
    *,
    now: datetime,
    facts: ShopFacts,
    wamid: str | None = None,
    hints: DeliveryHints | None = None,
) -> Step | None:
    """The checkout's answer to a turn, or None when the turn is not about the delivery.

    ``hints`` are what the assistant read (OpenAI path): they fill only what our own
    reading of the text missed, and go through the same checks (length, zones, hours).
    """
    details = with_hints(read_details(text, now, want_address=c.address is None), hints, now)
    if details.too_long:
        return Step(events=(), text=texts.ADDRESS_TOO_LONG)
    if location is not None:
        place = address_from_location(
            location.latitude, location.longitude, location.name, location.address
        )
        if place is None:
            return Step(events=(), text=texts.LOCATION_UNREADABLE)
        details = replace(details, address=place)
    yes = texts.is_yes(text)
    if details.empty and not (yes and (c.proposed_at or (c.offered and not c.address))):
        return None
    return _apply(c, details, yes=yes, now=now, facts=facts, wamid=wamid)


def with_hints(d: Details, hints: DeliveryHints | None, now: datetime) -> Details:
    """``d`` completed by the assistant's reading where ours found nothing."""
    if hints is None:
        return d
    if d.address is None and not d.too_long and hints.address and hints.address.strip():
        address = hints.address.strip()
        too_long = len(address) > MAX_ADDRESS
        d = replace(d, address=None if too_long else address, too_long=too_long)
    if d.when is None and hints.when:
        d = replace(d, when=read_when(hints.when, now))
    if d.payment is None and hints.payment:
        d = replace(d, payment=payment_of(hints.payment.casefold()))
    return d


def _apply(
    c: Checkout, d: Details, *, yes: bool, now: datetime, facts: ShopFacts, wamid: str | None
) -> Step:
    notes: list[str] = []
    given = CheckoutDetailsGiven(cart_id=c.cart_id, payment=d.payment, wamid=wamid)
    address = d.address or (c.offered if yes and c.address is None and c.offered else None)
    if address is not None and not in_zone(facts, address):
        notes.append(texts.out_of_zone(facts))
    elif address is not None:
        given = replace(given, address=address)
    when = d.when
    if when is None and yes and c.proposed_at is not None:
        when = When(asap=False, at=c.proposed_at)
    if when is not None:
        given, note = _timed(given, when, now, facts)
        notes += [note] if note else []
    if d.unsupported_payment and d.payment is None:
        notes.append(texts.PAYMENT_ON_DELIVERY)
    after = _given(c, given)
    events: tuple[object, ...] = (given,) if given != _blank(c, wamid) else ()
    if after.complete and not notes:
        return _complete(after, events, wamid)
    return Step(events=events, text=texts.progress(after, notes))


def _blank(c: Checkout, wamid: str | None) -> CheckoutDetailsGiven:
    return CheckoutDetailsGiven(cart_id=c.cart_id, wamid=wamid)


def _timed(
    given: CheckoutDetailsGiven, when: When, now: datetime, facts: ShopFacts
) -> tuple[CheckoutDetailsGiven, str | None]:
    local = now.astimezone(ROME)
    at = when.at if when.at is not None and when.at > local else None
    if at is None and is_open(facts, local):
        return replace(given, asap=True, when_text=describe(When(asap=True), now)), None
    wanted = at or local
    if is_open(facts, wanted):
        return replace(given, deliver_at=wanted, when_text=describe(when, now)), None
    slot = next_opening(facts, wanted)
    slot_text = describe(When(asap=False, at=slot), now)
    proposed = replace(given, proposed_at=slot, proposed_text=slot_text)
    return proposed, texts.closed_then(facts, slot_text, right_now=at is None)


def _complete(c: Checkout, events: tuple[object, ...], wamid: str | None) -> Step:
    if c.address is None or c.payment is None:
        return Step(events=events, text=texts.progress(c, []))
    done = CheckoutCompleted(
        cart_id=c.cart_id,
        address=c.address,
        asap=c.asap,
        deliver_at=c.deliver_at,
        when_text=c.when_text or "appena possibile",
        payment=c.payment,
        fee=c.fee,
        items_total=c.items_total,
        total=c.items_total + c.fee,
        wamid=wamid,
    )
    return Step(events=(*events, done), text=texts.summary(c, done))
