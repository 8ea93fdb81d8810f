"""Order-relay events, one ``order-<relay_id>`` stream per dealer share of a customer's cart.

A cart spanning several dealers becomes one relay per dealer. Times that drive timers
(``requested_at``, ``relayed_at``, ...) are business facts and sit in the payload, because
``core.order_relay.evolve`` sees payloads only.
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
class OrderDrafted:
    """A dealer's share of a proposed cart, priced from the catalogue."""

    TYPE: ClassVar[str] = "order.drafted"
    VERSION: ClassVar[int] = 1

    relay_id: str
    customer_key: str  # the customer's conversation key
    cart_id: str
    dealer_id: str
    dealer_phone: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    currency: str = "EUR"


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderConfirmationRequested:
    """The customer was asked to confirm; the expiry timer runs from ``requested_at``."""

    TYPE: ClassVar[str] = "order.confirmation_requested"
    VERSION: ClassVar[int] = 1

    relay_id: str
    requested_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderConfirmed:
    """The customer confirmed the cart this relay belongs to."""

    TYPE: ClassVar[str] = "order.confirmed"
    VERSION: ClassVar[int] = 1

    relay_id: str
    confirmed_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketOrderCreated:
    """The Dloop market order exists (the original ``status='created'``)."""

    TYPE: ClassVar[str] = "order.market_order_created"
    VERSION: ClassVar[int] = 1

    relay_id: str
    market_order_id: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRelayedToDealer:
    """The order was queued to the dealer on WhatsApp; the reminder timer runs from here."""

    TYPE: ClassVar[str] = "order.relayed_to_dealer"
    VERSION: ClassVar[int] = 1

    relay_id: str
    outbound_id: str  # the ReplyQueued in the dealer's conversation stream
    relayed_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DealerReminded:
    """The dealer had not answered in time and was reminded."""

    TYPE: ClassVar[str] = "order.dealer_reminded"
    VERSION: ClassVar[int] = 1

    relay_id: str
    outbound_id: str
    reminded_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEscalated:
    """Support was alerted about this order (dealer silent after the reminder, ...)."""

    TYPE: ClassVar[str] = "order.escalated"
    VERSION: ClassVar[int] = 1

    relay_id: str
    reason: str  # dealer_silent | ...
    escalated_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted:
    """The dealer accepted the order."""

    TYPE: ClassVar[str] = "order.accepted"
    VERSION: ClassVar[int] = 1

    relay_id: str
    accepted_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected:
    """The dealer rejected the order, with their reason when given."""

    TYPE: ClassVar[str] = "order.rejected"
    VERSION: ClassVar[int] = 1

    relay_id: str
    reason: str | None
    rejected_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFailed:
    """A step of the relay failed for good (market order, dealer message)."""

    TYPE: ClassVar[str] = "order.failed"
    VERSION: ClassVar[int] = 1

    relay_id: str
    step: str  # market_order | relay
    error: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled:
    """The relay was cancelled (customer cancelled the cart, or an agent did)."""

    TYPE: ClassVar[str] = "order.cancelled"
    VERSION: ClassVar[int] = 1

    relay_id: str
    reason: str
    by: str | None = None  # agent id when cancelled from the dashboard


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired:
    """No confirmation arrived within the configured time."""

    TYPE: ClassVar[str] = "order.expired"
    VERSION: ClassVar[int] = 1

    relay_id: str
    expired_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDelivered:
    """The market says the order reached the customer; the customer is told."""

    TYPE: ClassVar[str] = "order.delivered"
    VERSION: ClassVar[int] = 1

    relay_id: str
    delivered_at: datetime  # when the market says it was delivered
