"""The market side of an order relay, pure: the market-orders port, the live catalogue
fold, dealer directory, WhatsApp catalog orders, relay deadlines and customer texts.

Nothing here reads the clock or does I/O: ``now`` comes in, events go out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from core.catalog import Catalog, Dealer, Product
from core.nlu.replies import format_price
from core.order_relay import RelayStage, RelayState, RelayTimeouts
from core.phones import normalize_phone
from core.understanding import CartLine
from events.conversation import PricedLine
from events.market import (
    CatalogDealerUpserted,
    CatalogProductUpserted,
    ContactUpserted,
    MarketOrderDeferred,
    OrderNumberAssigned,
    PriceMismatch,
    ProductAliasAdded,
    StockChanged,
)
from events.whatsapp import Order

# --------------------------------------------------------------------------- the port


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDelivery:
    """Where, when and how the customer receives and pays an order (from the checkout)."""

    address: str
    when_text: str
    deliver_at: datetime | None
    payment: str  # contanti | carta, on delivery
    fee: Decimal  # this order's share of the delivery fee


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketOrderRequest:
    """One dealer's share of a confirmed cart, as the Dloop market receives it."""

    relay_id: str  # also the idempotency key: one market order per relay, ever
    customer: str
    dealer_id: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    currency: str = "EUR"
    delivery: MarketDelivery | None = None  # None: ordered before checkout existed


# --------------------------------------------------------------------------- catalogue


def apply_catalog_event(catalog: Catalog, event: object) -> Catalog:
    """Fold one ``catalog`` stream event into ``catalog`` (unknown events are ignored)."""
    if isinstance(event, CatalogDealerUpserted):
        dealer = Dealer(
            id=event.dealer_id, name=event.name, category=event.category, phone=event.phone
        )
        dealers = [d for d in catalog.dealers if d.id != dealer.id]
        return Catalog.of([*dealers, dealer], catalog.products)
    if isinstance(event, CatalogProductUpserted):
        product = product_of(event)
        products = list(catalog.products)
        index = next((i for i, p in enumerate(products) if p.id == product.id), None)
        if index is None:
            products.append(product)
        else:
            products[index] = product
        return Catalog.of(catalog.dealers, products)
    if isinstance(event, StockChanged) and catalog.product(event.product_id) is not None:
        return catalog.with_stock(event.product_id, event.stock)
    if isinstance(event, ProductAliasAdded) and catalog.product(event.product_id) is not None:
        return catalog.with_alias(event.product_id, event.alias)
    return catalog


def fold_catalog(catalog: Catalog, events: Iterable[object]) -> Catalog:
    """Fold the ``catalog`` stream over the catalogue file."""
    for item in events:
        catalog = apply_catalog_event(catalog, item)
    return catalog


def product_of(event: CatalogProductUpserted) -> Product:
    """The catalogue product an upsert describes."""
    return Product(
        id=event.product_id,
        dealer_id=event.dealer_id,
        name=event.name,
        description=event.description,
        price=event.price,
        stock=event.stock,
        tags=event.tags,
        retailer_id=event.retailer_id,
        aliases=event.aliases,
    )


def upsert_of(product: Product) -> CatalogProductUpserted:
    """The event that (re)states ``product``."""
    return CatalogProductUpserted(
        product_id=product.id,
        dealer_id=product.dealer_id,
        name=product.name,
        description=product.description,
        price=product.price,
        stock=product.stock,
        tags=product.tags,
        retailer_id=product.retailer_id,
        aliases=product.aliases,
    )


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True, slots=True)
class Directory:
    """``rider_contacts`` folded from the ``contacts`` stream, by E.164 phone."""

    contacts: Mapping[str, ContactUpserted] = field(default_factory=dict)

    def with_contact(self, contact: ContactUpserted) -> Directory:
        """A copy with ``contact`` added or replaced."""
        return Directory({**self.contacts, contact.phone: contact})


def dealer_id_for(phone: str, catalog: Catalog, directory: Directory) -> str | None:
    """The dealer writing from ``phone``: a dealer contact first, then the catalogue."""
    contact = directory.contacts.get(phone)
    if contact is not None and contact.contact_type == "dealer" and contact.dealer_id:
        return contact.dealer_id
    for dealer in catalog.dealers:
        if normalize_phone(dealer.phone) == phone:
            return dealer.id
    return None


# --------------------------------------------------------------------------- catalog orders


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogOrderReading:
    """A WhatsApp catalog cart read against our catalogue."""

    lines: tuple[CartLine, ...]
    unknown: tuple[str, ...]
    mismatches: tuple[PriceMismatch, ...]


def read_catalog_order(order: Order, catalog: Catalog) -> CatalogOrderReading:
    """Map ``product_retailer_id`` to products; report unknown ids and price mismatches.

    A line whose price differs from ours is left out of the cart (the customer is told),
    never silently repriced.
    """
    lines: dict[str, int] = {}
    unknown: list[str] = []
    mismatches: list[PriceMismatch] = []
    for item in order.items:
        product = catalog.by_retailer_id(item.product_retailer_id)
        if product is None:
            unknown.append(item.product_retailer_id)
            continue
        if item.item_price is not None and item.item_price != product.price:
            mismatches.append(
                PriceMismatch(
                    product_id=product.id, sent_price=item.item_price, our_price=product.price
                )
            )
            continue
        if item.quantity >= 1:
            lines[product.id] = lines.get(product.id, 0) + item.quantity
    cart = tuple(CartLine(product_id=pid, quantity=q) for pid, q in lines.items())
    return CatalogOrderReading(lines=cart, unknown=tuple(unknown), mismatches=tuple(mismatches))


def catalog_order_problems(reading: CatalogOrderReading, catalog: Catalog) -> str | None:
    """The Italian notice about unknown or mispriced lines, or None when all is well."""
    parts: list[str] = []
    if reading.unknown:
        parts.append(
            "Questi articoli non sono nel nostro catalogo: " + ", ".join(reading.unknown) + "."
        )
    for m in reading.mismatches:
        product = catalog.product(m.product_id)
        name = product.name if product is not None else m.product_id
        parts.append(
            f"Il prezzo di «{name}» non corrisponde: {format_price(m.sent_price)} nel carrello, "
            f"{format_price(m.our_price)} da noi. L'ho tolto dal carrello: riaggiungilo se va bene."
        )
    return "\n".join(parts) if parts else None


# --------------------------------------------------------------------------- relay extras


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayExtras:
    """What this package adds to a relay stream: its number and market-order deferrals."""

    number: int | None = None
    deferrals: int = 0
    retry_at: datetime | None = None


def evolve_extras(extras: RelayExtras, event: object) -> RelayExtras:
    """Total: a number or a deferral changes the extras, any other event nothing."""
    if isinstance(event, OrderNumberAssigned):
        return replace(extras, number=event.number)
    if isinstance(event, MarketOrderDeferred):
        return replace(extras, deferrals=event.attempt, retry_at=event.retry_at)
    return extras


def fold_extras(events: Iterable[object]) -> RelayExtras:
    """Fold the number and deferral events of one relay stream."""
    extras = RelayExtras()
    for e in events:
        extras = evolve_extras(extras, e)
    return extras


def retry_delay(attempt: int, base: timedelta, cap: timedelta = timedelta(minutes=10)) -> timedelta:
    """Exponential backoff for parked market orders: base, 2 base, 4 base... up to ``cap``."""
    return min(base * (1 << max(0, attempt - 1)), cap)


def next_deadline(
    state: RelayState, extras: RelayExtras, timeouts: RelayTimeouts
) -> tuple[str, datetime] | None:
    """The next timer of a relay and when it is due, or None when nothing waits."""
    stage = state.stage
    if stage in (RelayStage.DRAFT, RelayStage.AWAITING_CONFIRMATION) and state.requested_at:
        return "confirmation", state.requested_at + timeouts.confirmation
    if stage is RelayStage.CONFIRMED and extras.retry_at is not None:
        return "market_retry", extras.retry_at
    if stage is not RelayStage.RELAYED_TO_DEALER or state.relayed_at is None:
        return None
    if state.reminded_at is None:
        return "dealer_reminder", state.relayed_at + timeouts.dealer_reminder
    if not state.escalated:
        return "dealer_escalation", state.reminded_at + timeouts.dealer_escalation
    return None


# --------------------------------------------------------------------------- customer texts


def order_label(number: int | None) -> str:
    """``n. 17`` (or a neutral label before numbering)."""
    return f"n. {number}" if number is not None else "in corso"


def relayed_text(number: int | None, dealer: str, total: Decimal) -> str:
    """The customer's notice that an order reached its dealer."""
    return (
        f"Il tuo ordine {order_label(number)} ({dealer}, {format_price(total)}) è stato inviato "
        "al negozio. Ti scrivo appena risponde."
    )


def accepted_text(number: int | None, dealer: str) -> str:
    """The customer's notice that the dealer accepted."""
    return (
        f"Buone notizie! {dealer} ha accettato il tuo ordine {order_label(number)}. "
        "Un rider passerà a ritirarlo."
    )


def rejected_text(number: int | None, dealer: str, reason: str | None) -> str:
    """The customer's notice that the dealer rejected, with the reason when given."""
    why = f" Motivo: {reason}." if reason else ""
    return (
        f"Purtroppo {dealer} non può preparare il tuo ordine {order_label(number)}.{why} "
        "Non ti verrà addebitato nulla. Vuoi ordinare qualcos'altro?"
    )


def delivered_text(number: int | None, dealer: str) -> str:
    """The customer's notice that the order was delivered."""
    return (
        f"Il tuo ordine {order_label(number)} di {dealer} è stato consegnato. "
        "Grazie per aver scelto Dloop! Se qualcosa non va, scrivici pure qui."
    )


DELIVERED_TEMPLATE = "dloop_ordine_consegnato"  # approved template for delivery outside 24 h
EXPIRED_TEXT = (
    "Il carrello che ti avevo proposto è scaduto perché non è arrivata la conferma. "
    "Se vuoi ancora ordinare, riscrivimi pure cosa ti serve."
)
MARKET_DOWN_TEXT = (
    "Il sistema ordini è momentaneamente non raggiungibile: ho messo da parte il tuo ordine "
    "e riprovo a breve. Ti aggiorno qui."
)
MARKET_FAILED_TEXT = (
    "Non sono riuscito a registrare il tuo ordine. Un operatore ti contatterà qui al più presto."
)
DEALER_SILENT_TEXT = (
    "Il negozio non ha ancora risposto al tuo ordine: un operatore sta verificando "
    "e ti aggiorna qui."
)
