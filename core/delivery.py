"""The delivery side of a relay, pure: terms folded from the relay stream, and the texts.

A relay started by a completed checkout carries ``DeliveryScheduled``: when, payment,
its share of the fee and its total with delivery. The dealer's message and the
first-notice template show them; the customer hears about every step after the
dealer's answer (ready, picked up), in Italian.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.market import MarketDelivery, order_label
from core.nlu.replies import format_price
from events.conversation import PricedLine
from events.delivery import DeliveryScheduled

TEMPLATE_ITEMS_MAX = 900  # a template parameter holds at most 1,024 characters


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryTerms:
    """What one relay's delivery was agreed as."""

    asap: bool
    deliver_at: datetime | None
    when_text: str
    payment: str
    fee: Decimal
    total: Decimal  # items + fee


def fold_terms(events: Iterable[object]) -> DeliveryTerms | None:
    """The delivery terms of one relay stream (None: a relay from before checkout existed)."""
    terms = None
    for e in events:
        if isinstance(e, DeliveryScheduled):
            terms = DeliveryTerms(
                asap=e.asap,
                deliver_at=e.deliver_at,
                when_text=e.when_text,
                payment=e.payment,
                fee=e.fee,
                total=e.total,
            )
    return terms


def fee_shares(relays: int, fee: Decimal) -> tuple[Decimal, ...]:
    """One delivery fee per checkout: the first relay carries it, the others none."""
    return tuple(fee if i == 0 else Decimal("0.00") for i in range(relays))


def items_line(lines: Sequence[PricedLine]) -> str:
    """``2 × Crocchette; 1 × Lettiera`` (cut to fit a template parameter)."""
    text = "; ".join(f"{line.quantity} × {line.name}" for line in lines)
    return text if len(text) <= TEMPLATE_ITEMS_MAX else text[: TEMPLATE_ITEMS_MAX - 1] + "…"


def template_params(
    number: int | None, lines: Sequence[PricedLine], total: Decimal
) -> tuple[str, ...]:
    """The body parameters of the dealer's first-notice template: number, items, total."""
    return (str(number) if number is not None else "-", items_line(lines), format_price(total))


def dealer_delivery_text(address: str | None, terms: DeliveryTerms) -> str:
    """The delivery block appended to the dealer's order message."""
    pay = "contanti" if terms.payment == "contanti" else "carta"
    where = f"Indirizzo: {address}\n" if address else ""
    return (
        f"{where}Consegna: {terms.when_text}\nPagamento alla consegna: {pay}\n"
        f"Costo consegna: {format_price(terms.fee)} · Totale con consegna: "
        f"{format_price(terms.total)}"
    )


def ready_text(number: int | None, dealer: str) -> str:
    """The customer's notice that the dealer prepared the order."""
    return (
        f"Il tuo ordine {order_label(number)} è pronto da {dealer}: "
        "il rider passa a ritirarlo a breve."
    )


def picked_up_text(number: int | None, dealer: str) -> str:
    """The customer's notice that the rider has the order."""
    return (
        f"Il rider ha ritirato il tuo ordine {order_label(number)} da {dealer}: "
        "è in consegna, arriva a breve!"
    )


def ready_ack_text(number: int | None) -> str:
    """The dealer's acknowledgement of "pronto N"."""
    return f"Ordine n. {number} segnato come pronto: ho avvisato il cliente e il rider. Grazie!"


def not_ready_text(number: int | None, stage_words: str) -> str:
    """The order cannot be marked ready from its stage."""
    return f"L'ordine n. {number} non può essere segnato come pronto: è {stage_words}."


def market_delivery_json(d: MarketDelivery) -> dict[str, str | None]:
    """The delivery as the market receives it (money as a decimal string, time ISO 8601)."""
    return {
        "address": d.address,
        "when": d.when_text,
        "deliver_at": d.deliver_at.isoformat() if d.deliver_at is not None else None,
        "payment": d.payment,
        "fee": str(d.fee),
    }
