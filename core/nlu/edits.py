"""Reading a change to the open cart from Italian: add, remove, set, replace, clear.

The message is cut into clauses at edit words (cues): ``aggiungi``, ``anche``, ``pure``,
``metti`` add; ``togli``, ``elimina``, ``rimuovi``, ``leva``, ``senza`` (opening a clause),
``non voglio più`` remove; ``svuota``, ``ricominciamo``, ``da capo``, ``togli tutto``
clear. Inside a clause, ``in più`` adds and ``in meno`` takes away, ``a 4`` and
``invece di 2`` set a quantity (``portale a 4``, ``metti 3 mozzarelle invece di 2``),
and ``al posto di X`` / ``invece di X`` / ``sostituisci X con Y`` replace one product
with another. Objects put first (``le passate portale a 4``) belong to the verb after.

Products to remove, set or replace are looked for among the cart's lines first (``il
pane`` is the bread in the cart); products to add are matched against the catalogue as
a new order would be. Pure; returns operations, never applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from core.nlu import edit_scale
from core.nlu import edit_words as w
from core.nlu.answers import Answer, plain_tokens, read_answer
from core.nlu.bad_quantities import bad_quantity, sign_or_size
from core.nlu.cart import Item, extract_cart, split_items
from core.nlu.lexicon import DEMONSTRATIVES
from core.nlu.matching import CatalogIndex, score
from core.nlu.normalize import SEP
from core.nlu.numbers import Piece, read_pieces
from core.understanding import UnresolvedItem
from events.cart import CartOp, CartOperation
from events.conversation import UnderstoodLine

__all__ = ["EditReading", "bad_quantity", "read_edits"]

_DEAR = 10_000  # rank every product when looking inside the cart
MAX_QUANTITY = 99
MIN_IN_CART = 0.3  # relevance a cart line needs to be the one the words name


@dataclass(slots=True)
class Clause:
    """Words governed by one edit cue while reading."""

    op: str | None = None  # a CartOp value, "clear", or None (no cue yet)
    words: list[str] = field(default_factory=list)
    replace_from: list[str] | None = None  # the words of the product being replaced
    from_open: bool = False  # still reading the replaced product's words
    set_to: int | None = None
    counted: bool = False  # "in più" / "in meno": the number is a change, not a total
    scale: Fraction | None = None  # "raddoppia", "la metà": a multiple of the line


@dataclass(frozen=True, slots=True, kw_only=True)
class EditReading:
    """What a message asks to change; ``operations`` in the order they apply."""

    operations: tuple[CartOperation, ...] = ()
    unresolved: tuple[UnresolvedItem, ...] = ()  # things to add that need a choice
    unknown: tuple[str, ...] = ()  # things to add the catalogue does not have
    missing: tuple[str, ...] = ()  # words naming nothing in the cart
    bad_quantity: str | None = None  # "zero", "negative" or "too_many"
    targets_cart: bool = False  # asks to remove, set, replace or clear something

    @property
    def empty(self) -> bool:
        """True when nothing at all was read (not an edit)."""
        return not (self.operations or self.unresolved or self.unknown or self.missing)


def _cue(tokens: tuple[str, ...], i: int) -> tuple[str | None, int]:
    """The edit cue starting at ``i`` (op, tokens taken), or (None, 0)."""
    t, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
    prev = tokens[i - 1] if i else SEP
    if t.startswith(w.CLEAR_PREFIX) or t in w.CLEAR_EXACT or (t == "da" and nxt == "capo"):
        return "clear", 2 if t == "da" else 1
    removing = t.startswith(w.REMOVE_PREFIX) or t in w.REMOVE_EXACT
    if removing and nxt in {"tutto", "tutti", "tutte"}:
        return "clear", 2
    if removing or (t in {"senza", "niente"} and prev in w.OPENERS):
        return CartOp.REMOVE.value, 1
    if t == "via" and prev in w.OPENERS and nxt in w.ARTICLES:  # "via il latte", not "via Dante"
        return CartOp.REMOVE.value, 1
    if t == "non" and (m := w.NO_LONGER.match(" ".join(tokens[i + 1 : i + 5]))):
        return CartOp.REMOVE.value, 1 + len(m.group(0).split())
    return _other_cue(tokens, i, prev)


def _other_cue(tokens: tuple[str, ...], i: int, prev: str) -> tuple[str | None, int]:
    """Set, replace and add cues (after clear and remove, which they must not shadow)."""
    t = tokens[i]
    if t in {"e", "poi", "ancora"} and all(x in w.FILLER or x in w.OPENERS for x in tokens[:i]):
        return CartOp.ADD.value, 1  # "e poi un olio", "ah e anche ...": more of the same
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if edit_scale.verb_factor(t) is not None:
        return CartOp.SET.value, 1  # "raddoppia", "dimezzale": the factor is read after
    if t in w.SET_VERBS and nxt in w.ANOTHER:
        return CartOp.ADD.value, 2  # "mettine altri due": more, not a new total
    if t in w.SET_VERBS or t.startswith(w.SET_PREFIX):  # "fanne 3", "rimettili a 2"
        return CartOp.SET.value, 1
    if t in w.MAKE_IT and _number(nxt) is not None:  # "il parmigiano fallo 3"
        return CartOp.SET.value, 1
    if t in w.MAKE_IT and nxt == "da" and _number(" ".join(tokens[i + 2 : i + 3])) is not None:
        return CartOp.SET.value, 2  # "le passate falle da 2"
    if t == "ne" and i + 1 < len(tokens) and tokens[i + 1] in w.WANT_NE:
        return CartOp.SET.value, 2  # "ne voglio 3", "me ne servono 2": the new total
    if t in w.ANOTHER and (prev in {"un", "una", "uno"} or _number(nxt) is not None):
        return CartOp.ADD.value, 1  # "un altro", "altri due"
    if t.startswith("sostitu") or t in {"cambia", "cambiami", "scambia"}:
        return CartOp.REPLACE.value, 1
    if t in w.ADD or t.startswith(w.ADD_PREFIX):
        return CartOp.ADD.value, 1
    return None, 0


def _number(token: str) -> int | None:
    pieces = read_pieces((token,))
    return pieces[0].value if pieces and pieces[0].kind == "quantity" else None


def _markers(c: Clause, tokens: tuple[str, ...], i: int) -> int:
    """Consume a marker at ``i`` into ``c`` (in più, a N, invece di N/X, al posto di X)."""
    t, nxt = tokens[i], tokens[i + 1] if i + 1 < len(tokens) else ""
    factor, taken = edit_scale.noun_factor(tokens, i)
    if factor is not None:  # "fai il doppio di latte", "mettine la metà"
        c.op, c.scale = CartOp.SET.value, factor
        return taken
    if t == "in" and nxt in {"piu", "meno"}:
        c.op, c.counted = (CartOp.ADD if nxt == "piu" else CartOp.REMOVE).value, True
        return 2
    if t in {"a", "diventare", "diventino", "diventa"} and _number(nxt) is not None:
        c.set_to, c.op = _number(nxt), CartOp.SET.value
        if c.replace_from:  # "cambia la quantità del latte a 3": a set, not a replace
            c.words, c.replace_from, c.from_open = [*c.replace_from, *c.words], None, False
        return 2
    if not ((t == "al" and nxt == "posto") or t == "invece"):
        return 0
    j = i + (2 if t == "al" else 1)
    prep = j < len(tokens) and tokens[j] in w.PREPOSITIONS
    j += prep
    named = prep and _content(list(tokens[j + 1 : j + 2]))  # "al posto dei 2 latte": replace
    if j < len(tokens) and _number(tokens[j]) is not None and not named:
        c.op = CartOp.SET.value  # "3 mozzarelle invece di 2", "al posto di 2": the old quantity
        return j + 1 - i
    c.op, c.replace_from, c.from_open = CartOp.REPLACE.value, [], True
    return j - i


def _clauses(tokens: tuple[str, ...]) -> list[Clause]:
    out: list[Clause] = [Clause()]
    i = 0
    while i < len(tokens):
        c = out[-1]
        taken = _markers(c, tokens, i)
        if taken:
            i += taken
            continue
        op, taken = _cue(tokens, i)
        if op is not None:
            i += taken
            if c.from_open:
                c.from_open = False  # "al posto del latte metti il parmigiano"
                if op == CartOp.ADD.value:
                    continue
            if tokens[i - taken] in w.ALSO and c.op is not None and not _content(c.words):
                continue  # "togli pure il deo", "togli anche il pane": the verb's adverb
            if tokens[i - taken] in w.ALSO and c.op == CartOp.REMOVE.value and i < len(tokens):
                op = c.op if tokens[i] in w.ARTICLES else op  # "togli il latte e anche il pane"
            if _content(c.words) or (c.op not in (None, CartOp.ADD.value) and op != c.op):
                out.append(c := Clause(op=op))
            elif op != CartOp.ADD.value or c.op is None:
                c.op = op
            c.scale = edit_scale.verb_factor(tokens[i - taken]) or c.scale
            if op == CartOp.REPLACE.value:  # "sostituisci X con Y"
                c.replace_from, c.from_open = [], True
            continue
        if c.from_open and c.replace_from is not None:
            if tokens[i] in {SEP, "con", "col", "coi", "colla", "coll"}:
                c.from_open = False
            else:
                c.replace_from.append(tokens[i])
        else:
            c.words.append(tokens[i])
        i += 1
    return _fronted(out)


def _content(words: list[str]) -> bool:
    """True when ``words`` hold something that could name a product."""
    return any(item.words for item in split_items(read_pieces(_clean(words))))


def _fronted(clauses: list[Clause]) -> list[Clause]:
    """``le passate portale a 4``: a cue-less clause's object moves to the next clause."""
    out: list[Clause] = []
    for c in clauses:
        prev = out[-1] if out else None
        if prev is not None and prev.op is None and not _content(c.words):
            c.words = [*prev.words, SEP, *c.words]
            out[-1] = c
        else:
            out.append(c)
    return out


def _clean(words: list[str]) -> tuple[str, ...]:
    return tuple(x for x in words if x not in w.FILLER)


@dataclass(slots=True)
class _Reading:
    ops: list[CartOperation] = field(default_factory=list)
    unresolved: list[UnresolvedItem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    bad: str | None = None
    have: dict[str, int] = field(default_factory=dict)  # the cart's quantities


def read_edits(
    text: str, index: CatalogIndex, cart: tuple[UnderstoodLine, ...]
) -> EditReading | None:
    """The change ``text`` asks of ``cart``, or None when it has no edit words at all."""
    clauses = _clauses(w.corrected(plain_tokens(text), index.knows))
    if all(c.op is None for c in clauses):
        return None
    r = _Reading(bad=sign_or_size(text), have={x.product_id: x.quantity for x in cart})
    ids = tuple(x.product_id for x in cart)
    for c in clauses:
        _read_clause(c, index, ids, r)
    if any(op.quantity is not None and op.quantity > MAX_QUANTITY for op in r.ops):
        r.bad = r.bad or "too_many"
    targets = any(c.op not in (None, CartOp.ADD.value) for c in clauses)
    nothing = not (r.ops or r.unresolved or r.unknown or r.bad)
    if nothing and (not r.missing or read_answer(text) is Answer.CANCEL):
        return None  # "niente, ci ho ripensato": a cancel, not words naming no line
    return EditReading(
        operations=tuple(r.ops),
        unresolved=tuple(r.unresolved),
        unknown=tuple(r.unknown),
        missing=tuple(r.missing),
        bad_quantity=r.bad,
        targets_cart=targets,
    )


def _read_clause(c: Clause, index: CatalogIndex, cart: tuple[str, ...], r: _Reading) -> None:
    pieces = read_pieces(_clean(c.words))
    items = split_items(pieces)
    if any(item.quantity == 0 for item in items) or c.set_to == 0:
        r.bad = r.bad or "zero"
    counts = [p.value for p in pieces if p.kind == "quantity"]
    lone = cart[0] if len(cart) == 1 else None
    if c.op == "clear":
        r.ops.append(CartOperation(op=CartOp.CLEAR))
        _add(pieces, index, (), r)
    elif c.op == CartOp.REMOVE.value:
        _remove(c, items, counts, index, cart=cart, r=r)
    elif c.op == CartOp.SET.value and c.scale is not None:
        _scale(c.scale, c.words, items, index, r)
    elif c.op == CartOp.SET.value:
        _set(c, items, counts[:1] if not items else [], index, cart=cart, r=r)
    elif c.op == CartOp.REPLACE.value:
        _replace(c, pieces, index, cart, r)
    elif not items and cart and (c.counted or (c.op == CartOp.ADD.value and counts)):
        quantity = counts[0] if counts else 1  # "uno in più", "aggiungine un altro"
        if lone is not None:
            r.ops.append(CartOperation(op=CartOp.ADD, product_id=lone, quantity=quantity))
        else:  # more of which line? ask, with the cart's lines as the choices
            r.unresolved.append(UnresolvedItem(text="", quantity=quantity, candidates=cart))
    else:
        _add(pieces, index, cart, r)


def _remove(
    c: Clause,
    items: list[Item],
    counts: list[int],
    index: CatalogIndex,
    *,
    cart: tuple[str, ...],
    r: _Reading,
) -> None:
    """``togli il latte`` (the line), ``togli una mozzarella`` (one), ``uno in meno``."""
    if not items:
        if (c.counted or counts) and len(cart) == 1:  # "uno in meno", "togline una"
            quantity = counts[0] if counts else 1
            r.ops.append(CartOperation(op=CartOp.REMOVE, product_id=cart[0], quantity=quantity))
        return
    for item in items:
        target = _in_cart(index, item.words, cart)
        op = CartOperation(op=CartOp.REMOVE, product_id=target, quantity=item.quantity)
        _target(r, target, item, op)


def _set(
    c: Clause,
    items: list[Item],
    counts: list[int],
    index: CatalogIndex,
    *,
    cart: tuple[str, ...],
    r: _Reading,
) -> None:
    """``portale a 4``, ``metti 3 mozzarelle invece di 2``, ``fanne 4`` (a one-line cart)."""
    if not items:
        given = c.set_to if c.set_to is not None else counts[0] if counts else None
        if given is not None and len(cart) == 1:
            r.ops.append(CartOperation(op=CartOp.SET, product_id=cart[0], quantity=given))
        return
    for item in items:
        target = _in_cart(index, item.words, cart) or _catalogue(index, item.words)
        quantity = c.set_to if c.set_to is not None else item.quantity
        if quantity is not None:
            _target(
                r, target, item, CartOperation(op=CartOp.SET, product_id=target, quantity=quantity)
            )


def _scale(
    factor: Fraction, words: list[str], items: list[Item], index: CatalogIndex, r: _Reading
) -> None:
    """``raddoppia le crocchette``, ``dimezza`` (a one-line cart), ``raddoppia tutto``."""
    cart = tuple(r.have)
    targets: list[str | None] = [_in_cart(index, item.words, cart) for item in items]
    r.missing.extend(" ".join(i.words) for i, t in zip(items, targets, strict=True) if t is None)
    if not items and (len(cart) == 1 or not {"tutto", "tutti", "tutte"}.isdisjoint(words)):
        targets = list(cart)
    for t in targets:
        if t is not None:
            quantity = edit_scale.scaled(r.have[t], factor)
            r.ops.append(CartOperation(op=CartOp.SET, product_id=t, quantity=quantity))


def _target(r: _Reading, target: str | None, item: Item, op: CartOperation) -> None:
    if target is None:
        r.missing.append(" ".join(item.words))
    else:
        r.ops.append(op)


def _replace(
    c: Clause, pieces: tuple[Piece, ...], index: CatalogIndex, cart: tuple[str, ...], r: _Reading
) -> None:
    said = [
        x for item in split_items(read_pieces(_clean(c.replace_from or []))) for x in item.words
    ]
    old = _in_cart(index, said, cart)
    new = extract_cart(pieces, index)
    if not new.lines and DEMONSTRATIVES & set(c.words):  # "quelle per gatto": the head noun's
        kind = [*said[:1], *(x for x in c.words if x not in DEMONSTRATIVES)]
        new = extract_cart(read_pieces(_clean(kind)), index)
    if old is None:
        r.missing.append(" ".join(said))
        return
    if not new.lines:
        _add(pieces, index, cart, r)  # what could not be matched is reported there
        return
    items = split_items(pieces)
    quantity = items[0].quantity if items else None
    replacement = new.lines[0].product_id
    r.ops.append(CartOperation(op=CartOp.REPLACE, product_id=old, replacement_id=replacement,
                               quantity=quantity))  # fmt: skip


def _add(
    pieces: tuple[Piece, ...], index: CatalogIndex, cart: tuple[str, ...], r: _Reading
) -> None:
    reading = extract_cart(pieces, index)
    for line in reading.lines:
        r.ops.append(
            CartOperation(op=CartOp.ADD, product_id=line.product_id, quantity=line.quantity)
        )
    for x in reading.unresolved:
        mine = [pid for pid in x.candidates if pid in cart]
        if len(mine) == 1:
            r.ops.append(CartOperation(op=CartOp.ADD, product_id=mine[0], quantity=x.quantity))
        elif x.candidates:
            r.unresolved.append(x)
        else:
            r.unknown.append(x.text)


def _in_cart(index: CatalogIndex, words: list[str], cart: tuple[str, ...]) -> str | None:
    """The cart product ``words`` name best, or None."""
    if not words or not cart:
        return None
    for s in score(index, tuple(words), limit=_DEAR):
        pid = index.products[s.index].id
        if pid in cart and s.score >= MIN_IN_CART:
            return pid
    return None


def _catalogue(index: CatalogIndex, words: list[str]) -> str | None:
    """The one catalogue product ``words`` name clearly, or None."""
    reading = extract_cart(read_pieces(tuple(words)), index)
    return reading.lines[0].product_id if len(reading.lines) == 1 else None
