"""What the order relay's drive asks of the shell, and what the shell brings back.

Requests and outcomes of :data:`~core.relay_drive.RELAY_DRIVE`: the outcomes are not
stored themselves (what the market answered is recorded by the event decided from it,
the rest are reads of our own log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.market import MarketOrderRequest

# -- requests (the shell performs them) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResolveCustomer:
    """The phone behind the customer's pseudonym (the market delivers to a number)."""

    customer_key: str


@dataclass(frozen=True, slots=True)
class FindAddress:
    """The address of the customer's completed checkout of ``cart_id``."""

    customer_key: str
    cart_id: str


@dataclass(frozen=True, slots=True)
class CreateMarketOrder:
    """Call the market API (idempotent per relay)."""

    order: MarketOrderRequest


@dataclass(frozen=True, slots=True)
class TakeNumber:
    """Read how many order numbers were handed out."""


@dataclass(frozen=True, slots=True)
class SeeDealer:
    """When the dealer last wrote to us (their 24-hour window) and their shop's name."""

    phone: str
    dealer_id: str


DriveRequest = ResolveCustomer | FindAddress | CreateMarketOrder | TakeNumber | SeeDealer


# -- outcomes (what the shell brings back) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerResolved:
    """The customer's phone, None once erased."""

    phone: str | None


@dataclass(frozen=True, slots=True)
class AddressFound:
    """The checkout's address, None when none was given."""

    address: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketAnswered:
    """The market's order id, or why it has none (``transient``: it may work later)."""

    market_order_id: str | None = None
    error: str = ""
    transient: bool = False


@dataclass(frozen=True, slots=True)
class NumberTaken:
    """The last order number handed out (0: none yet)."""

    last: int


@dataclass(frozen=True, slots=True)
class DealerSeen:
    """The dealer's last message to us (None: never) and the shop's name."""

    last_message_at: datetime | None
    name: str


DriveOutcome = CustomerResolved | AddressFound | MarketAnswered | NumberTaken | DealerSeen
