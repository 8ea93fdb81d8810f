"""Order status for customers, pure: "dov'è il mio ordine?", "a che punto è?", "quando arriva?".

The shell looks up the relays of the customer's latest order (one per shop) and hands
them in as :class:`OrderView`; this module recognises the question and answers with the
number, the shop and the stage in Italian words. A complaint ("non è ancora arrivato",
"è in ritardo", "rimborso") is not a status question: it stays with support.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.market import order_label
from core.nlu.normalize import fold, tokenize
from core.nlu.replies import format_price

_ASKS = re.compile(
    r"\b(dov e|dove|dov) (e |sta |si trova )?(arrivat\w* )?(il |l |lo |la )?(mio |mia )?"
    r"(ordine|ordinazione|spesa|pacco|consegna)\b"
    r"|\b(hanno|ha|avete|e stato|e stata) (gia )?(accettat|confermat|spedit|inviat|preparat)\w* "
    r"(il |l |la )?(mio |mia )?(ordine|ordinazione|spesa)\b"
    r"|\b(me l|ce l|l) (avete|hanno|ha) (gia )?(spedit|inviat|mandat|accettat|preparat)\w*\b"
    r"|\ba che punto (e|sta|siamo)\b|\b(quando|a che ora|per che ora|che ora) (arriva|arrivate"
    r"|arrivera|consegnate|consegnerete|arriveranno|passa|passera|mi arriva"
    r"|(me |ce )?(lo|la|li|le) (portate|porterete|consegnate|consegnerete))\b"
    r"|\b(stato|situazione) (del|dell|di|mio|mia) ?(mio |mia )?(ordine|consegna)\b"
    r"|\bquanto (manca|ci vuole|ci mette|tempo)\b"
    r"|\b(e|e gia) (partito|uscito|in viaggio|pronto|in consegna|in arrivo|in preparazione)\b"
    r"|\b(novita|aggiornamenti) (sul|sull|del|dell) ?(mio )?(ordine)?\b"
    r"|\b(tra|fra) quanto (arriva|arrivate|arriverete|consegnate|me lo portate)?\b"
    r"|\bcome (procede|va|sta andando|sta) (il |l )?(mio )?ordine\b"
    r"|\b(ordine|ordinazione|spesa) (e |e gia )?(stato |stata )?(accettat|confermat|partit"
    r"|spedit|inviat|pront)\w*\b"
)
_COMPLAINT = re.compile(
    r"\b(non (e|mi e|ci e|sono|e ancora|e mai) (ancora )?(arrivat|consegnat|giunt)\w*"
    r"|ritardo|rimbors\w*|reclam\w*|sbagliat\w*|rott\w*|danneggiat\w*|annull\w*"
    r"|(?<!quanto )manca\w*"
    r"|operatore|assistenza)\b"
)

STAGE_WORDS = {
    "draft": "in attesa della tua conferma",
    "awaiting_confirmation": "in attesa della tua conferma",
    "confirmed": "confermato, lo sto inviando al negozio",
    "market_order_created": "registrato, lo sto inviando al negozio",
    "relayed_to_dealer": "inviato al negozio, in attesa che lo accetti",
    "accepted": "accettato dal negozio, in preparazione",
    "ready": "pronto in negozio, in attesa del rider",
    "picked_up": "ritirato dal rider, in consegna",
    "delivered": "consegnato",
    "rejected": "rifiutato dal negozio",
    "failed": "non riuscito",
    "cancelled": "annullato",
    "expired": "scaduto senza conferma",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """One shop's share of the customer's latest order, as the customer may see it."""

    number: int | None
    shop: str
    stage: str  # a relay stage value
    total: Decimal
    when_text: str | None = None  # the agreed delivery time, when a checkout gave one
    updated_at: datetime | None = None


def is_status_question(text: str) -> bool:
    """True for a question about where an order is (not a complaint about it)."""
    folded = " ".join(re.findall(r"[a-z0-9]+", fold(text).replace("'", " ")))
    spelt = " ".join(t for t in tokenize(text) if t.isalnum())  # "qnd arriva?" -> "quando"
    asks = _ASKS.search(folded) is not None or _ASKS.search(spelt) is not None
    return asks and _COMPLAINT.search(folded) is None and _COMPLAINT.search(spelt) is None


def status_text(orders: Sequence[OrderView]) -> str:
    """The answer: one line per shop with number, stage in words, total and delivery time."""
    lines = [_line(o) for o in orders]
    if len(lines) == 1:
        return lines[0]
    return "Ecco i tuoi ordini:\n" + "\n".join(f"• {line}" for line in lines)


def _line(o: OrderView) -> str:
    words = STAGE_WORDS.get(o.stage, o.stage)
    when = ""
    if o.when_text and o.stage not in ("delivered", "rejected", "failed", "cancelled", "expired"):
        when = f" Consegna prevista: {o.when_text}."
    return (
        f"Il tuo ordine {order_label(o.number)} da {o.shop} ({format_price(o.total)}) "
        f"è {words}.{when}"
    )
