"""Asking which product an order item meant: a WhatsApp list message, and reading the tap.

An order item that matches several products (``crocchette``: for dogs or for cats?)
becomes a :class:`~events.conversation.ChoiceRequested` and a list message whose rows are
the candidates plus "Nessuno di questi". Row ids are ``choice:<choice_id>:<product_id>``
(``-`` for none), so a tapped ``list_reply`` names the question it answers and a stale
tap from an older list is recognised. Items with no candidate at all are told plainly
("non abbiamo ..."), never guessed. Everything here is pure.

Meta's limits (checked again by :class:`core.outbound.ListMessage` when sending): at most
10 rows in all, row titles up to 24 characters, descriptions up to 72, button text and
section titles up to 20 and 24.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.catalog import Catalog, Product
from core.nlu.replies import availability, format_price
from core.outbound import BUTTON_TITLE_MAX, ROW_DESCRIPTION_MAX, ROW_TITLE_MAX
from events.conversation import ReplyRow, UnderstoodLine, UnresolvedLine

PREFIX = "choice:"
NONE = "-"  # the "none of these" row
MAX_ROWS = 10
LIST_BUTTON = "Scegli il prodotto"
NONE_TITLE = "Nessuno di questi"
NONE_DESCRIPTION = "Riscrivo io cosa mi serve"
NONE_CHOSEN = "Va bene, nessuno di questi. Dimmi pure cosa ti serve, anche con altre parole."
STALE = "Questa lista non è più valida: riscrivimi pure cosa ti serve."
SECTION_TITLE_MAX = 24

assert len(LIST_BUTTON) <= BUTTON_TITLE_MAX


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def options(item: UnresolvedLine, catalog: Catalog) -> tuple[Product, ...]:
    """The candidates of ``item`` the catalogue still has, at most ``MAX_ROWS - 1``."""
    found = (catalog.product(pid) for pid in item.candidates)
    return tuple(p for p in found if p is not None)[: MAX_ROWS - 1]


def row_id(choice_id: str, product_id: str | None) -> str:
    """The id of one row: ``choice:<choice_id>:<product_id or ->``."""
    return f"{PREFIX}{choice_id}:{product_id or NONE}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tap:
    """A tapped row of one of our choice lists."""

    choice_id: str
    product_id: str | None  # None: "none of these"
    quantity: int | None = None  # typed with the pick ("quelle del gatto, due"): overrides


def read_tap(button_id: str | None) -> Tap | None:
    """The choice a ``list_reply`` id answers, or None when the id is not ours."""
    if button_id is None or not button_id.startswith(PREFIX):
        return None
    choice_id, sep, product = button_id[len(PREFIX) :].partition(":")  # our ids have no ":"
    if not sep or not choice_id or not product:
        return None
    return Tap(choice_id=choice_id, product_id=None if product == NONE else product)


def rows(choice_id: str, item: UnresolvedLine, products: Sequence[Product]) -> tuple[ReplyRow, ...]:
    """The list rows: one per candidate (name, price, availability) and "none of these"."""
    section = shorten(item.text, SECTION_TITLE_MAX) or "Prodotti"
    found = tuple(
        ReplyRow(
            id=row_id(choice_id, p.id),
            title=shorten(p.name, ROW_TITLE_MAX),
            description=shorten(
                f"{p.name} · {format_price(p.price)} · {availability(p)}", ROW_DESCRIPTION_MAX
            ),
            section=section,
        )
        for p in products[: MAX_ROWS - 1]
    )
    none = ReplyRow(
        id=row_id(choice_id, None),
        title=NONE_TITLE,
        description=shorten(NONE_DESCRIPTION, ROW_DESCRIPTION_MAX),
        section=section,
    )
    return (*found, none)


def question(item: UnresolvedLine) -> str:
    """The list message's body."""
    if not item.text:  # "aggiungine un altro" on a cart of several lines
        more = "uno" if item.quantity == 1 else str(item.quantity)
        return (
            f"Di quale prodotto del carrello vuoi aggiungerne {more} in più? "
            "Tocca «Scegli il prodotto» e seleziona quello giusto."
        )
    many = f" ({item.quantity} pezzi)" if item.quantity > 1 else ""
    return (
        f"Per «{item.text}»{many} ho trovato più prodotti: quale di questi intendevi? "
        "Tocca «Scegli il prodotto» e seleziona quello giusto."
    )


def not_sold(items: Iterable[UnresolvedLine]) -> str:
    """The plain answer for items the catalogue has nothing like."""
    names = [f"«{x.text}»" for x in items]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " e " + names[-1]
    return (
        f"Mi dispiace, non abbiamo {listed} nel nostro catalogo. "
        "Se vuoi, scrivimi un altro prodotto."
    )


def add_line(
    lines: tuple[UnderstoodLine, ...], product_id: str, quantity: int
) -> tuple[UnderstoodLine, ...]:
    """``lines`` with ``quantity`` more of ``product_id`` (merged into an existing line)."""
    for i, line in enumerate(lines):
        if line.product_id == product_id:
            merged = UnderstoodLine(product_id=product_id, quantity=line.quantity + quantity)
            return (*lines[:i], merged, *lines[i + 1 :])
    return (*lines, UnderstoodLine(product_id=product_id, quantity=quantity))
