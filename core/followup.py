"""Ordering what was just shown: "me ne dai 2", "lo prendo", "il primo", "quello da 8 euro".

After a product answer (:mod:`core.shown`) a customer often orders without naming the
product again. :func:`follow_up` reads such a turn as cart lines, the way a shop
assistant who just showed the products would:

* one product shown: any acceptance ("lo prendo", "me ne dai 2", "sì", "ok 2 grazie",
  "va bene, una confezione") orders it; the count said, else one. A bare "sì" after
  "Vuoi ordinare qualcosa?" orders one: the cart that follows shows it and asks for
  confirmation, so a wrong count is fixed there at no cost, while asking "how many?"
  first would cost every customer one more message;
* several shown: a pick as in a choice list (:mod:`core.typed_choice`: "il primo",
  "la seconda, 3 pezzi", "quello da 8 euro", a name's words) orders that one; no pick
  (a bare "sì") reads nothing, and the usual order answer asks what they want.

Only short texts whose reading names no product are read ("ok grazie", "no" are not
orders). Pure.
"""

from __future__ import annotations

from core import typed_choice
from core.catalog import Catalog
from core.nlu.normalize import tokenize
from core.nlu.numbers import read_pieces
from core.shown import Shown
from core.understanding import Intent, Understanding
from events.conversation import UnderstoodLine, UnresolvedLine

TAKE = frozenset({
    "prendo", "prenderei", "prendiamo", "dai", "dammi", "dammene", "damme", "voglio",
    "vorrei", "metti", "mettimi", "mettine", "ordino", "aggiungi", "mandami", "mandamene",
    "quello", "quella", "questo", "questa", "lo", "si", "certo", "volentieri",
    "confezione", "confezioni", "pezzo", "pezzi",
})  # fmt: skip
# Not "perfetto", "bene": "perfetto grazie", "va bene grazie" close a chat as often as they
# accept; with a count ("perfetto, 2") they order.
REFUSE = frozenset({"no", "non", "niente", "nessuno", "nessuna", "dopo", "magari"})
MAX_WORDS = typed_choice.MAX_WORDS


def _reads_nothing(understanding: Understanding | None) -> bool:
    if understanding is None:
        return True
    if understanding.intent is Intent.ORDER_REQUEST:
        return not understanding.cart and not understanding.unresolved
    return understanding.intent is Intent.GENERAL_CHAT


def follow_up(
    text: str, understanding: Understanding | None, shown: Shown | None, catalog: Catalog
) -> tuple[UnderstoodLine, ...] | None:
    """The cart a follow-up of a product answer orders, or None (not such a turn)."""
    if shown is None or not _reads_nothing(understanding):
        return None
    tokens = tuple(t for t in tokenize(text) if t not in {",", "?", "!", "."})
    if not tokens or len(tokens) > MAX_WORDS or REFUSE & set(tokens):
        return None
    listed = tuple(p.id for p in map(catalog.product, shown.product_ids) if p is not None)
    if not listed:
        return None
    counts = [p.value for p in read_pieces(tokens) if p.kind == "quantity"]
    if len(listed) == 1:
        if not (TAKE & set(tokens) or counts):
            return None
        return (UnderstoodLine(product_id=listed[0], quantity=_count(counts)),)
    item = UnresolvedLine(text="", quantity=1, candidates=listed)
    picked = typed_choice.read_typed(text, item, catalog)
    if picked is None or picked not in listed:
        return None
    quantity = typed_choice.typed_quantity(text) or 1
    return (UnderstoodLine(product_id=picked, quantity=quantity),)


def _count(counts: list[int]) -> int:
    return counts[0] if len(counts) == 1 and counts[0] >= 1 else 1
