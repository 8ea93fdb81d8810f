"""The Italian texts of cart editing, stock and quantity limits (see :mod:`core.cart_turn`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.cart_ops import MAX_PER_PRODUCT
from core.catalog import Product
from core.nlu.replies import format_price
from events.conversation import ReplyButton

MERGE_ADD_ID = "cart:merge:add"
MERGE_NEW_ID = "cart:merge:new"
MERGE_BUTTONS = (
    ReplyButton(id=MERGE_ADD_ID, title="Aggiungi"),
    ReplyButton(id=MERGE_NEW_ID, title="Nuovo carrello"),
)

UPDATED = "Fatto, ho aggiornato il carrello."
CLEARED = "Fatto, ho svuotato il carrello e annullato l'ordine. Se ti serve altro, scrivimi pure."
NO_CART = (
    "Non hai un carrello aperto, quindi non c'è niente da togliere o cambiare. "
    "Dimmi pure cosa ti serve e lo preparo."
)
MODIFY_ASK = (
    "Certo! Il carrello resta com'è: dimmi cosa cambiare, per esempio «togli il latte», "
    "«aggiungi un pane» o «metti 3 mozzarelle»."
)
UNCLEAR = (
    "Scusa, non ho capito: confermi il carrello? Rispondi «sì» per confermare, «annulla» "
    "per annullarlo, oppure dimmi cosa cambiare."
)
TOO_MANY = (
    f"Mi dispiace, posso ordinare al massimo {MAX_PER_PRODUCT} per prodotto. "
    "Scrivimi una quantità più piccola."
)
ZERO = (
    "La quantità deve essere almeno 1. Per togliere un prodotto scrivi per esempio "
    "«togli il latte»."
)
NEGATIVE = (
    "Non posso usare quantità negative: scrivimi quanti pezzi vuoi (almeno 1), oppure "
    "«togli …» per toglierne."
)
UNCHANGED = "Il carrello non è cambiato."
_REMOVED = ("", "ho tolto un prodotto", "ho tolto {} prodotti")
_SAID_CHANGES = 3  # more changes than this read as a new cart: the summary says it all
BAD_QUANTITY = {"too_many": TOO_MANY, "zero": ZERO, "negative": NEGATIVE}


def names(items: Sequence[str]) -> str:
    """``«a»``, ``«a» e «b»``, ``«a», «b» e «c»``."""
    quoted = [f"«{x}»" for x in items if x]
    if len(quoted) <= 1:
        return "".join(quoted) or "questo prodotto"
    return ", ".join(quoted[:-1]) + " e " + quoted[-1]


def missing(words: Sequence[str]) -> str:
    """Words that name nothing in the cart."""
    return f"Nel carrello non trovo {names(words)}."


def sold_out(product: Product, others: Sequence[Product]) -> str:
    """A product with no stock, and up to three alternatives of the same kind."""
    text = f"Mi dispiace, «{product.name}» al momento non è disponibile (esaurito)."
    if others:
        listed = ", ".join(f"{p.name} ({format_price(p.price)})" for p in others)
        text += f" In alternativa posso proporti: {listed}."
    return text


def only_left(product: Product) -> str:
    """Fewer pieces in stock than asked: the cart takes what there is."""
    if product.stock == 1:
        return f"Di «{product.name}» abbiamo solo 1 pezzo disponibile: l'ho messo nel carrello."
    return (
        f"Di «{product.name}» abbiamo solo {product.stock} pezzi disponibili: "
        "li ho messi tutti nel carrello."
    )


def gone_at_confirmation(products: Sequence[Product]) -> str:
    """Lines that sold out between the proposal and the confirmation."""
    return (
        f"Nel frattempo {names([p.name for p in products])} si è esaurito: "
        "l'ho tolto dal carrello, non verrà ordinato."
    )


def merge_question(total_text: str, items: Sequence[str]) -> str:
    """A new order while a cart is open: add to it, or start again?"""
    return (
        f"Hai già un carrello aperto (totale {total_text}). Vuoi aggiungere "
        f"{names(items)} al carrello o preferisci un carrello nuovo?"
    )


def set_aside(items: Sequence[str]) -> str:
    """The products of an unanswered "add or start over?" that a typed change left out."""
    return f"Non ho aggiunto {names(items)} al carrello: se ti serve, scrivimelo."


def changed(
    old: Sequence[tuple[str, int]], new: Sequence[tuple[str, int]], name: Callable[[str], str]
) -> str:
    """What an edit did, as a shop assistant says it back ("ho aggiunto 1 × «Olio»").

    ``old`` and ``new`` are (product id, quantity) pairs; more than a few changes, or
    none, fall back to :data:`UPDATED`. A removed product is counted, not named: its name
    in the reply would read as if it were still in the cart.
    """
    before, after = dict(old), dict(new)
    gone = sum(1 for pid, _q in old if pid not in after)
    said = [_REMOVED[min(gone, 2)].format(gone)] if gone else []
    for pid, q in new:
        if pid not in before:
            said.append(f"ho aggiunto {q} × «{name(pid)}»")
        elif before[pid] != q:
            said.append(f"ho portato «{name(pid)}» da {before[pid]} a {q}")
    if not said or len(said) > _SAID_CHANGES:
        return UPDATED
    return "Fatto: " + "; ".join(said) + "."


def with_note(note: str, body: str) -> str:
    """``body`` after a short note (two paragraphs), or ``body`` alone."""
    return f"{note}\n\n{body}" if note else body


def not_sold(words: Sequence[str]) -> str:
    """Things to add that the catalogue does not have."""
    return f"Mi dispiace, non abbiamo {names(words)} nel nostro catalogo."
