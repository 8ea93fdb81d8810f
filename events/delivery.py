"""Relay events of the delivery, in ``order-<relay_id>`` streams (ADR 0010).

``DeliveryScheduled`` goes with ``OrderConfirmed`` when a checkout completes: when,
payment and the fee this dealer's share carries (the first relay of a cart carries the
one delivery fee, the others none). The address is not repeated here: it stays sealed
in the customer's stream (``checkout.completed``). ``OrderReady`` is the dealer's
"pronto N"; ``OrderPickedUp`` is the market's ``picked_up``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryScheduled:
    """The delivery terms of one relay, from the customer's completed checkout."""

    TYPE: ClassVar[str] = "order.delivery_scheduled"
    VERSION: ClassVar[int] = 1

    relay_id: str
    asap: bool
    deliver_at: datetime | None
    when_text: str
    payment: str  # contanti | carta
    fee: Decimal  # this relay's share of the delivery fee
    total: Decimal  # the relay's items plus ``fee``


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderReady:
    """The dealer said the accepted order is ready for the rider."""

    TYPE: ClassVar[str] = "order.ready"
    VERSION: ClassVar[int] = 1

    relay_id: str
    ready_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPickedUp:
    """The market says the rider picked the order up."""

    TYPE: ClassVar[str] = "order.picked_up"
    VERSION: ClassVar[int] = 1

    relay_id: str
    picked_up_at: datetime
