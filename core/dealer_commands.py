"""Dealer commands on WhatsApp, pure: reading them (tolerant of case and typos) and the
Italian texts the dealer gets back.

``ordini`` lists the dealer's open orders, ``stato <n>`` tells one order's stage,
``accetta <n>`` / ``rifiuta <n> [motivo]`` answer an order (the Accetta / Rifiuta buttons
do the same), ``disponibile <prodotto> <qty>`` and ``esaurito <prodotto>`` update stock,
``alias <nome> = <prodotto>`` teaches the assistant another name customers use for a
product (``alias tachipirina = paracetamolo``), ``aiuto`` lists the commands. Ownership
is checked by the shell against the relay and the catalogue: a dealer only sees and
changes its own orders and products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rapidfuzz import fuzz, process

from core.catalog import Product
from core.conversation_texts import ACCEPT_PREFIX, REJECT_PREFIX
from core.nlu.replies import format_price
from core.optout import normalize
from core.order_relay import RelayStage
from events.conversation import PricedLine, ReplyButton

VERB_CUTOFF = 75.0  # rapidfuzz ratio: ``ordni`` ~91, ``acceta`` ~92, unrelated words < 60
PRODUCT_CUTOFF = 70.0

_VERBS: dict[str, str] = {
    "ordini": "ordini",
    "ordine": "ordini",
    "stato": "stato",
    "accetta": "accetta",
    "accetto": "accetta",
    "rifiuta": "rifiuta",
    "rifiuto": "rifiuta",
    "disponibile": "disponibile",
    "disponibili": "disponibile",
    "esaurito": "esaurito",
    "esaurita": "esaurito",
    "aiuto": "aiuto",
    "pronto": "pronto",
    "pronta": "pronto",
    "pronti": "pronto",
    "help": "aiuto",
    "comandi": "aiuto",
    "alias": "alias",
    "sinonimo": "alias",
}
MAX_ALIAS = 40  # characters: a name, not a sentence


@dataclass(frozen=True, slots=True, kw_only=True)
class DealerCommand:
    """One dealer message, read.

    ``verb`` is one of ``ordini``, ``stato``, ``accetta``, ``rifiuta``, ``disponibile``,
    ``esaurito``, ``alias``, ``aiuto`` or ``sconosciuto``; ``problem`` says what is missing when the
    verb was recognised but its arguments were not.
    """

    verb: str
    number: int | None = None
    relay_id: str | None = None  # from a button
    reason: str | None = None
    product: str | None = None  # the words naming a product
    quantity: int | None = None
    alias: str | None = None  # the new name, for ``alias``
    problem: str | None = None


def parse_command(text: str | None, button_id: str | None = None) -> DealerCommand:
    """Read a dealer message (text or tapped button); never raises."""
    if button_id:
        for prefix, verb in ((ACCEPT_PREFIX, "accetta"), (REJECT_PREFIX, "rifiuta")):
            if button_id.startswith(prefix):
                return DealerCommand(verb=verb, relay_id=button_id[len(prefix) :] or None)
    words = (text or "").strip().split()
    if not words:
        return DealerCommand(verb="sconosciuto")
    verb = _verb(words[0])
    rest = words[1:]
    if verb in ("accetta", "rifiuta"):
        return _answer(verb, rest)
    if verb == "pronto":
        number = _number(rest[0]) if rest else None
        return DealerCommand(verb=verb, number=number)
    if verb == "stato":
        number = _number(rest[0]) if rest else None
        return DealerCommand(verb=verb, number=number, problem=None if number else "numero")
    if verb == "disponibile":
        return _available(rest)
    if verb == "alias":
        return _alias(" ".join(rest))
    if verb == "esaurito":
        product = " ".join(rest).strip()
        return DealerCommand(
            verb=verb, product=product or None, problem=None if product else "prodotto"
        )
    return DealerCommand(verb=verb)


def _verb(word: str) -> str:
    folded = normalize(word)
    if folded in _VERBS:
        return _VERBS[folded]
    found = process.extractOne(folded, list(_VERBS), scorer=fuzz.ratio, score_cutoff=VERB_CUTOFF)
    return _VERBS[found[0]] if found else "sconosciuto"


def _number(word: str) -> int | None:
    digits = word.strip("#nN.°:")
    return int(digits) if digits.isdigit() and int(digits) > 0 else None


def _answer(verb: str, rest: list[str]) -> DealerCommand:
    number = _number(rest[0]) if rest else None
    if number is not None:
        rest = rest[1:]
    reason = " ".join(rest).strip(" :,.-") or None
    return DealerCommand(verb=verb, number=number, reason=reason if verb == "rifiuta" else None)


def _available(rest: list[str]) -> DealerCommand:
    if len(rest) >= 2 and rest[-1].isdigit():
        return DealerCommand(
            verb="disponibile", product=" ".join(rest[:-1]), quantity=int(rest[-1])
        )
    if len(rest) >= 2 and rest[0].isdigit():
        return DealerCommand(verb="disponibile", product=" ".join(rest[1:]), quantity=int(rest[0]))
    return DealerCommand(verb="disponibile", problem="quantità")


def _alias(rest: str) -> DealerCommand:
    """``tachipirina = paracetamolo``: the new name, then the product it stands for."""
    name, sep, product = rest.partition("=")
    name, product = name.strip(" :,.\"'«»"), product.strip(" :,.\"'«»")
    if not sep or not name or not product or len(name) > MAX_ALIAS:
        return DealerCommand(verb="alias", problem="alias")
    return DealerCommand(verb="alias", alias=name, product=product)


def match_product(words: str, products: Sequence[Product]) -> tuple[Product, ...]:
    """The dealer's products ``words`` may name: one when sure, several when ambiguous.

    An exact id wins; otherwise fuzzy token matching on names (typos and word order
    tolerated). Only ``products`` (the dealer's own) are ever considered.
    """
    wanted = normalize(words)
    exact = [p for p in products if normalize(p.id) == wanted or normalize(p.name) == wanted]
    if exact:
        return (exact[0],)
    names = {p.id: normalize(p.name) for p in products}
    hits = process.extract(
        wanted, names, scorer=fuzz.token_set_ratio, score_cutoff=PRODUCT_CUTOFF, limit=5
    )
    if not hits:
        return ()
    best = hits[0][1]
    close = [key for _, score, key in hits if best - score < 5]
    by_id = {p.id: p for p in products}
    return tuple(by_id[k] for k in close)


# --------------------------------------------------------------------------- texts

HELP_TEXT = (
    "Comandi disponibili:\n"
    "• ordini: i tuoi ordini aperti\n"
    "• stato <numero>: a che punto è un ordine\n"
    "• accetta <numero>\n"
    "• rifiuta <numero> <motivo>\n"
    "• pronto <numero>: l'ordine è pronto per il rider\n"
    "• disponibile <prodotto> <quantità>\n"
    "• esaurito <prodotto>\n"
    "• alias <nome> = <prodotto>: un altro nome con cui i clienti lo chiedono\n"
    "• aiuto: questo elenco"
)
UNKNOWN_TEXT = "Non ho capito. Scrivi «aiuto» per l'elenco dei comandi."
NO_OPEN_ORDERS = "Non hai ordini aperti al momento."
WHICH_ORDER = (
    "Hai più ordini in attesa: scrivi «accetta <numero>» oppure «rifiuta <numero> <motivo>». "
    "Scrivi «ordini» per vederli."
)
USAGE = {
    "numero": "Indica il numero dell'ordine, per esempio «stato 12».",
    "quantità": "Scrivi per esempio «disponibile crocchette cane 10».",
    "prodotto": "Scrivi per esempio «esaurito crocchette cane».",
    "alias": "Scrivi per esempio «alias tachipirina = paracetamolo» (nome breve, poi il prodotto).",
}

STAGE_NAMES = {
    RelayStage.DRAFT: "in attesa di conferma del cliente",
    RelayStage.AWAITING_CONFIRMATION: "in attesa di conferma del cliente",
    RelayStage.CONFIRMED: "confermato, in registrazione",
    RelayStage.MARKET_ORDER_CREATED: "registrato",
    RelayStage.RELAYED_TO_DEALER: "in attesa della tua risposta",
    RelayStage.ACCEPTED: "accettato",
    RelayStage.REJECTED: "rifiutato",
    RelayStage.FAILED: "non riuscito",
    RelayStage.CANCELLED: "annullato",
    RelayStage.EXPIRED: "scaduto",
    RelayStage.DELIVERED: "consegnato",
    RelayStage.READY: "pronto per il ritiro",
    RelayStage.PICKED_UP: "ritirato dal rider",
}


def answer_buttons(relay_id: str) -> tuple[ReplyButton, ...]:
    """The Accetta / Rifiuta buttons of a relayed order."""
    return (
        ReplyButton(id=f"{ACCEPT_PREFIX}{relay_id}", title="Accetta"),
        ReplyButton(id=f"{REJECT_PREFIX}{relay_id}", title="Rifiuta"),
    )


def relay_text(number: int | None, lines: Sequence[PricedLine], total: Decimal) -> str:
    """The new order as the dealer reads it, with how to answer."""
    bullets = "\n".join(f"• {line.quantity} × {line.name}" for line in lines)
    label = f"n. {number}" if number is not None else ""
    return (
        f"Nuovo ordine Dloop {label}:\n{bullets}\nTotale: {format_price(total)}\n"
        f"Tocca Accetta o Rifiuta, oppure scrivi «accetta {number}» / «rifiuta {number} motivo»."
    )


def reminder_text(number: int | None) -> str:
    """The reminder to a dealer who has not answered yet."""
    return f"Promemoria: l'ordine n. {number} aspetta ancora la tua risposta (Accetta / Rifiuta)."


def orders_text(rows: Sequence[tuple[int | None, RelayStage, Decimal, str]]) -> str:
    """``ordini``: one bullet per open order (number, stage, total, first product)."""
    if not rows:
        return NO_OPEN_ORDERS
    bullets = "\n".join(
        f"• n. {n}: {what} — {format_price(total)} — {STAGE_NAMES[stage]}"
        for n, stage, total, what in rows
    )
    return f"I tuoi ordini aperti:\n{bullets}"


def status_text(number: int, stage: RelayStage) -> str:
    """``stato <n>``."""
    return f"Ordine n. {number}: {STAGE_NAMES[stage]}."


def not_found_text(number: int | None) -> str:
    """The order does not exist or belongs to another dealer (never say which)."""
    return f"Non trovo l'ordine n. {number} tra i tuoi ordini."


def answered_text(number: int | None, accepted: bool) -> str:
    """The dealer's acknowledgement after accepting or rejecting."""
    verb = "accettato" if accepted else "rifiutato"
    return f"Ordine n. {number} {verb}: ho avvisato il cliente. Grazie!"


def too_late_text(number: int | None, stage: RelayStage) -> str:
    """The order can no longer be answered."""
    return f"L'ordine n. {number} non può più essere modificato: è {STAGE_NAMES[stage]}."


def stock_text(product: Product, stock: int) -> str:
    """The acknowledgement of a stock update."""
    if stock == 0:
        return f"Fatto: «{product.name}» ora risulta esaurito."
    return f"Fatto: «{product.name}» ora ha {stock} pezzi disponibili."


def alias_text(product: Product, alias: str, known: bool) -> str:
    """The acknowledgement of a new alias (or that the product already had it)."""
    if known:
        return f"«{product.name}» si chiama già anche «{alias}»."
    return f"Fatto: i clienti che scrivono «{alias}» troveranno «{product.name}»."


def product_unknown_text(words: str) -> str:
    """No product of this dealer matches."""
    return f"Non trovo «{words}» tra i tuoi prodotti."


def product_ambiguous_text(options: Sequence[Product]) -> str:
    """Several of the dealer's products match: ask which."""
    bullets = "\n".join(f"• {p.name} (codice {p.id})" for p in options)
    return (
        f"Quale prodotto intendi?\n{bullets}\nRiscrivi il comando con il nome completo o il codice."
    )
