"""Checkout events: the delivery details collected after the customer accepts a cart.

Recorded in the customer's ``conversation-<key>`` stream (so the address is sealed with
the customer's key, ADR 0007). ``CheckoutStarted`` is appended in the same turn as the
``CartConfirmed`` it follows: a confirmed cart with a started checkout is relayed only
when ``CheckoutCompleted`` is recorded; a ``CartConfirmed`` without one (logs written
before checkout existed) is relayed at once, as it always was (ADR 0010).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from events.base import event
from events.conversation import PricedLine


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutStarted:
    """The customer accepted the items of ``cart_id``; the bot now asks for the delivery."""

    TYPE: ClassVar[str] = "checkout.started"
    VERSION: ClassVar[int] = 1

    cart_id: str
    lines: tuple[PricedLine, ...] = ()  # the accepted items, for the summary
    items_total: Decimal
    fee: Decimal  # the delivery fee in force when the checkout began


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutDetailsGiven:
    """Some delivery details were read from a turn (None: not given in that turn).

    ``deliver_at`` None with ``asap`` True means "as soon as possible". ``proposed_at``
    is a slot the bot proposed because the time asked for falls outside opening hours;
    it waits for the customer's yes.
    """

    TYPE: ClassVar[str] = "checkout.details_given"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"address"})

    cart_id: str
    address: str | None = None
    asap: bool = False
    deliver_at: datetime | None = None
    when_text: str | None = None
    payment: str | None = None  # contanti | carta
    proposed_at: datetime | None = None
    proposed_text: str | None = None
    wamid: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutCompleted:
    """Everything the shop needs is known: the order relays may start (ADR 0010)."""

    TYPE: ClassVar[str] = "checkout.completed"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"address"})

    cart_id: str
    address: str
    asap: bool
    deliver_at: datetime | None
    when_text: str  # Italian, as told to the customer and the dealer
    payment: str  # contanti | carta
    fee: Decimal
    items_total: Decimal
    total: Decimal  # items + fee
    wamid: str | None = None
