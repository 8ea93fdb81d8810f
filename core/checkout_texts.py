"""The Italian texts of the checkout, and the short yes it recognises.

Kept apart from :mod:`core.checkout` so the rules read as rules. Every question names
what is missing and how to say it; the summary shows the items, the delivery fee and
the "Totale con consegna" that the relay and the dealer's message carry too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from core.business_facts import ShopFacts
from core.nlu.checkout_parse import MAX_ADDRESS
from core.nlu.normalize import fold
from core.nlu.replies import format_price
from events.checkout import CheckoutCompleted

if TYPE_CHECKING:
    from core.checkout import Checkout

ASK_ADDRESS = "l'indirizzo di consegna (via, numero civico e città)"
ASK_WHEN = "quando la vuoi (adesso, stasera, domani alle 10...)"
ASK_PAYMENT = "come paghi alla consegna: contanti o carta"
ADDRESS_TOO_LONG = (
    f"L'indirizzo è troppo lungo (massimo {MAX_ADDRESS} caratteri): scrivimi solo via, "
    "numero civico e città, per esempio «via Roma 12, Milano»."
)
LOCATION_UNREADABLE = (
    "Non riesco a leggere la posizione che mi hai mandato. Scrivimi l'indirizzo di consegna "
    "(via, numero civico e città)."
)
NOT_SENT_YET = "Il tuo ordine non è ancora stato inviato al negozio: aspetto i dati di consegna."
NO_ORDER = (
    "Non trovo ordini inviati a tuo nome. Se vuoi ordinare, scrivimi cosa ti serve e in che "
    "quantità."
)
CART_NOT_CONFIRMED = (
    "Il tuo ordine non è ancora partito: il carrello aspetta la tua conferma (Confermo, "
    "Modifica o Annulla)."
)
PAYMENT_ON_DELIVERY = "Alla consegna si paga in contanti o con carta."
_YES = re.compile(
    r"^(si|sì|ok|okay|va bene|certo|esatto|giusto|perfetto|confermo|d accordo|dacc|benissimo"
    r"|si grazie|ok grazie|va benissimo|certamente|sicuro|yes|vabbene|vabene|okei|oke)\b"
)


def is_yes(text: str) -> bool:
    """True when the turn opens with a short yes ("sì", "ok", "va bene, ...")."""
    words = " ".join(re.findall(r"[a-z]+", fold(text)))
    return _YES.match(words) is not None


def ask_start(offered: str | None) -> str:
    """The first checkout question, right after the customer accepts the items."""
    if offered:
        return (
            f"Carrello confermato! Consegno in {offered} come l'ultima volta? "
            "Se preferisci un altro indirizzo, scrivimelo. "
            f"Dimmi anche {ASK_WHEN} e {ASK_PAYMENT}."
        )
    return (
        "Carrello confermato! Per la consegna mi servono:\n"
        f"• {ASK_ADDRESS}\n• {ASK_WHEN}\n• {ASK_PAYMENT}\n"
        "Puoi scrivermi tutto in un messaggio."
    )


def missing(c: Checkout) -> list[str]:
    """What is still to ask, in the order the shop needs it."""
    out: list[str] = []
    if c.address is None:
        out.append(f"Consegno in {c.offered} come l'ultima volta?" if c.offered else ASK_ADDRESS)
    if not c.has_when and c.proposed_text is None:
        out.append(ASK_WHEN)
    if c.payment is None:
        out.append(ASK_PAYMENT)
    return out


def progress(c: Checkout, notes: list[str]) -> str:
    """What was understood so far, any notice, and what is still missing."""
    known = []
    if c.address:
        known.append(f"indirizzo {c.address}")
    if c.has_when and c.when_text:
        known.append(f"consegna {c.when_text}")
    if c.payment:
        known.append(
            f"pagamento in {c.payment}" if c.payment == "contanti" else "pagamento con carta"
        )
    parts = [f"Ok: {'; '.join(known)}." if known else "", *notes]
    ask = [m for m in missing(c) if not m.endswith("?")]
    offer = [m for m in missing(c) if m.endswith("?")]
    if c.proposed_text and not c.has_when and not notes:
        offer.append(f"Posso consegnare {c.proposed_text}: va bene?")
    parts += offer
    if ask:
        parts.append(f"Mi manca ancora {' e '.join(ask)}.")
    return " ".join(p for p in parts if p)


def out_of_zone(facts: ShopFacts) -> str:
    """The polite refusal of an address outside the delivery zones."""
    return (
        f"Mi dispiace, a quell'indirizzo non consegniamo: copriamo solo {facts.delivery_zones}. "
        "Se hai un indirizzo in zona, scrivimelo."
    )


def closed_then(facts: ShopFacts, slot_text: str, *, right_now: bool = False) -> str:
    """The requested time (``right_now``: "adesso", "subito") is outside opening hours:
    the next slot, proposed."""
    when = "Adesso" if right_now else "A quell'ora"
    return (
        f"{when} siamo chiusi (orari: {facts.opening_hours}). "
        f"Posso consegnare {slot_text}: va bene?"
    )


def summary(c: Checkout, done: CheckoutCompleted) -> str:
    """The final recap: items, delivery fee, total with delivery, address, time, payment."""
    bullets = "\n".join(
        f"• {line.quantity} × {line.name}: {format_price(line.line_total)}" for line in c.lines
    )
    pay = "contanti" if done.payment == "contanti" else "carta"
    return (
        f"Ecco il riepilogo del tuo ordine:\n{bullets}\n"
        f"Consegna: {format_price(done.fee)}\n"
        f"Totale con consegna: {format_price(done.total)}\n"
        f"Indirizzo: {done.address}\nQuando: {done.when_text}\n"
        f"Pagamento alla consegna: {pay}\n"
        "Inoltro l'ordine al negozio e ti aggiorno qui."
    )
