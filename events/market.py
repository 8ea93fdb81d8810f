"""Catalogue, contacts and order-relay bookkeeping events (issue 6).

* ``catalog`` stream: dealer and product upserts (``dloop-bot catalog import``), stock
  changes (dealer commands ``disponibile`` / ``esaurito``) and product aliases (dealer
  command ``alias tachipirina = paracetamolo``); folded over the catalogue file
  they give the live catalogue customers are offered.
* ``contacts`` stream: ``rider_contacts`` rows (``dloop-bot contacts import``).
* ``order-numbers`` stream: one :class:`OrderNumberAssigned` per relay; its stream version
  is the number, so numbers are dense and never reused.
* ``order-<relay_id>`` streams: the relay's own events (``events.orders``) plus the number,
  market-order deferrals and the timer facts below, so replay never reads the clock.
* ``conversation-<key>`` streams: :class:`DealerCommandHandled` and
  :class:`CatalogOrderChecked` mark which inbound facts the order reactor has handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from events.base import event
from events.upcasting import upcaster


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogDealerUpserted:
    """A dealer was added to the catalogue or changed."""

    TYPE: ClassVar[str] = "catalog.dealer_upserted"
    VERSION: ClassVar[int] = 1

    dealer_id: str
    name: str
    category: str
    phone: str  # E.164


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogProductUpserted:
    """A product was added to the catalogue or changed (price, stock, names...)."""

    TYPE: ClassVar[str] = "catalog.product_upserted"
    VERSION: ClassVar[int] = 2

    product_id: str
    dealer_id: str
    name: str
    description: str = ""
    price: Decimal
    stock: int
    tags: tuple[str, ...] = ()
    retailer_id: str | None = None
    aliases: tuple[str, ...] = ()  # v2: other names customers use for the product


@upcaster(CatalogProductUpserted.TYPE, 1)
def _product_upserted_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 had no aliases."""
    return {**data, "aliases": []}


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ProductAliasAdded:
    """A dealer (``alias tachipirina = paracetamolo``) gave a product another name."""

    TYPE: ClassVar[str] = "catalog.alias_added"
    VERSION: ClassVar[int] = 1

    product_id: str
    dealer_id: str
    alias: str
    by: str  # the dealer's phone, or ``cli``


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class StockChanged:
    """A dealer (or an operator) set how many units of a product can be sold."""

    TYPE: ClassVar[str] = "catalog.stock_changed"
    VERSION: ClassVar[int] = 1

    product_id: str
    dealer_id: str
    stock: int
    by: str  # the dealer's phone, or ``cli``


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ContactUpserted:
    """A ``rider_contacts`` row: a dealer's, rider's or support agent's phone."""

    TYPE: ClassVar[str] = "contacts.contact_upserted"
    VERSION: ClassVar[int] = 1

    phone: str  # E.164
    name: str
    contact_type: str  # dealer | rider | support
    dealer_id: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderNumberAssigned:
    """The short number customers and dealers use for a relay (``accetta 17``)."""

    TYPE: ClassVar[str] = "order.number_assigned"
    VERSION: ClassVar[int] = 1

    relay_id: str
    number: int


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketOrderDeferred:
    """The market API could not be reached; the order is parked until ``retry_at``."""

    TYPE: ClassVar[str] = "order.market_order_deferred"
    VERSION: ClassVar[int] = 1

    relay_id: str
    attempt: int  # 1 for the first failed call
    error: str
    retry_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class RelayTimerFired:
    """A relay timer came due; deciding reads ``fired_at``, never the clock."""

    TYPE: ClassVar[str] = "order.timer_fired"
    VERSION: ClassVar[int] = 1

    relay_id: str
    timer: str  # confirmation | dealer_reminder | dealer_escalation | market_retry
    fired_at: datetime


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DealerCommandHandled:
    """The order reactor answered one dealer message (so it is never handled twice)."""

    TYPE: ClassVar[str] = "dealer.command_handled"
    VERSION: ClassVar[int] = 1

    fact_id: str  # event id of the ``whatsapp.message_received``
    command: str  # ordini | stato | accetta | rifiuta | disponibile | esaurito | aiuto | ...
    relay_id: str | None = None
    ok: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceMismatch:
    """A catalog order line whose price differs from ours."""

    product_id: str
    sent_price: Decimal
    our_price: Decimal


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogOrderChecked:
    """A WhatsApp catalog ``order`` message was read against our catalogue."""

    TYPE: ClassVar[str] = "conversation.catalog_order_checked"
    VERSION: ClassVar[int] = 1

    fact_id: str  # event id of the ``whatsapp.message_received``
    wamid: str
    unknown: tuple[str, ...] = ()  # product_retailer_ids we do not sell
    mismatches: tuple[PriceMismatch, ...] = ()
    cart_id: str | None = None  # the cart proposed from the known lines, if any


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketOrderStatusReceived:
    """The Dloop market reported a status of the order it holds for a relay (a fact).

    Arrives as a signed ``POST /market/webhook``; ``delivered`` moves the relay on.
    """

    TYPE: ClassVar[str] = "order.market_status_received"
    VERSION: ClassVar[int] = 1

    relay_id: str
    market_order_id: str
    status: str  # created | accepted | picked_up | in_delivery | delivered | cancelled | ...
    occurred_at: datetime
