"""The conversation around an open cart: edits, natural confirm and cancel, stock, limits.

Called by :func:`core.turn_rules.decide_turn` (its only hooks are there). While a cart
waits for confirmation, a customer message is read in this order:

1. the buttons (Confermo / Modifica / Annulla, and Aggiungi / Nuovo carrello);
2. the answer to an open "add or start over?" question;
3. edit words (:mod:`core.nlu.edits`): the operations apply to the cart (a bad quantity
   or a product not in the cart is told, the cart stays as it was);
4. a short answer (:mod:`core.nlu.answers`): cancel (never to a human), a new order
   without edit words (ask: add or start over?), confirm (stock checked again), modify
   (the cart stays, the bot asks what to change), unclear (one short question);
5. anything else is not about the cart: the caller answers it by intent.

Every change restates the whole cart with its total and the buttons. A product with no
stock never enters a cart: it is named, with up to three alternatives. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from core import cart_ops
from core import cart_texts as ct
from core import conversation_texts as texts
from core.cart_ops import Lines
from core.cart_reading import model_answer, model_edits
from core.catalog import Catalog, Product
from core.nlu import index_for
from core.nlu.answers import Answer, Merge, read_answer, read_merge
from core.nlu.edits import EditReading, bad_quantity, read_edits
from core.nlu.replies import format_price
from core.pricing import price_cart, sum_lines
from core.understanding import CartLine, Intent, Understanding
from events.cart import CartMergeAsked, CartOp, CartOperation, CartRevised
from events.conversation import (
    CartCancelled,
    CartConfirmed,
    CartProposed,
    ChoiceMade,
    PricedLine,
    ReplyButton,
    ReplyKind,
    ReplyQueued,
    UnderstoodLine,
    UnresolvedLine,
)

NextStep = Callable[[tuple[UnderstoodLine, ...], tuple[UnresolvedLine, ...]], list[object]]
"""Ask about the next ambiguous item, else propose the cart (the conversation's own step)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnView:
    """What the cart rules read of a customer turn."""

    to: str
    wamids: tuple[str, ...]
    reply_to: str  # the wamid replies quote
    text: str
    button_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCart:
    """The cart waiting for confirmation, and an open "add or start over?" question."""

    cart_id: str
    lines: tuple[PricedLine, ...]
    merge: CartMergeAsked | None = None

    @property
    def items(self) -> Lines:
        """The cart's lines without prices."""
        return cart_ops.lines_of(self.lines)


def reply(
    view: TurnView, ids: Iterator[str], text: str, buttons: tuple[ReplyButton, ...] = ()
) -> ReplyQueued:
    """A bot reply to the turn."""
    return ReplyQueued(
        outbound_id=next(ids),
        to=view.to,
        kind=ReplyKind.BUTTONS if buttons else ReplyKind.TEXT,
        text=text,
        buttons=buttons,
        in_reply_to=view.reply_to,
    )


def summary(lines: tuple[PricedLine, ...]) -> str:
    """The whole cart with its total and the question."""
    return texts.cart_summary(lines, format_price(sum_lines(lines)))


def in_stock(lines: Lines, catalog: Catalog) -> tuple[Lines, str]:
    """``lines`` without sold-out or unknown products, cut to the stock, and the note."""
    known = tuple(x for x in lines if catalog.product(x.product_id) is not None)
    gone, short = cart_ops.sold_out(known, catalog), cart_ops.over_stock(known, catalog)
    kept = {x.product_id for x in known}
    notes = [ct.sold_out(p, _not_in(cart_ops.alternatives(p, catalog), kept)) for p in gone]
    notes += [ct.only_left(p) for p in short]
    return cart_ops.capped(cart_ops.without(known, gone), short), "\n".join(notes)


def propose(
    view: TurnView,
    ids: Iterator[str],
    catalog: Catalog,
    lines: Lines,
    *,
    previous: OpenCart | None,
    ops: tuple[CartOperation, ...] | None = None,
    note: str = "",
    reason: str = "customer",
    aside: str = "",  # said after what changed: a pending product the change left out
) -> list[object]:
    """Propose ``lines`` (replacing ``previous``), or say why the cart stays as it was."""
    if cart_ops.over_limit(lines):
        return [reply(view, ids, ct.TOO_MANY)]
    lines, stock_note = in_stock(lines, catalog)
    note = "\n".join(x for x in (stock_note, note) if x)
    if previous is not None and lines == previous.items:
        body = ct.with_note(note or ct.UNCHANGED, summary(previous.lines))
        return [reply(view, ids, body, texts.CART_BUTTONS)]
    closing = (
        [] if previous is None else [CartCancelled(cart_id=previous.cart_id, reason="revised")]
    )
    if not lines:
        text = ct.with_note(note, ct.CLEARED) if previous else note or ct.UNCHANGED
        return [*closing, reply(view, ids, text)]
    priced = price_cart(
        [CartLine(product_id=x.product_id, quantity=x.quantity) for x in lines], catalog
    )
    cart_id = next(ids)
    revised: list[object] = []
    if previous is not None:
        operations = _recorded(previous.items, ops, lines)
        revised.append(
            CartRevised(cart_id=cart_id, previous_cart_id=previous.cart_id,
                        operations=operations, wamids=view.wamids, reason=reason)
        )  # fmt: skip
        note = note or ct.changed(
            _pairs(previous.items), _pairs(lines), _namer((*priced.lines, *previous.lines))
        )
    note = " ".join(x for x in (note, aside) if x)
    proposed = CartProposed(
        cart_id=cart_id, lines=priced.lines, total=priced.total, wamids=view.wamids
    )
    body = ct.with_note(note, summary(priced.lines))
    return [*closing, *revised, proposed, reply(view, ids, body, texts.CART_BUTTONS)]


def _not_in(products: Sequence[Product], ids: set[str]) -> tuple[Product, ...]:
    """Alternatives the cart does not already hold (proposing those reads as not listening)."""
    return tuple(p for p in products if p.id not in ids)


def _pairs(lines: Lines) -> tuple[tuple[str, int], ...]:
    return tuple((x.product_id, x.quantity) for x in lines)


def _namer(lines: tuple[PricedLine, ...]) -> Callable[[str], str]:
    """Product names as the carts priced them (the new cart first, then the old)."""
    return lambda pid: next((x.name for x in lines if x.product_id == pid), pid)


def _diff(old: Lines, new: Lines) -> tuple[CartOperation, ...]:
    """Operations turning ``old`` into ``new``."""
    ops = [
        CartOperation(op=CartOp.REMOVE, product_id=x.product_id)
        for x in old
        if not cart_ops.quantity_of(new, x.product_id)
    ]
    for x in new:
        if cart_ops.quantity_of(old, x.product_id) != x.quantity:
            ops.append(CartOperation(op=CartOp.SET, product_id=x.product_id, quantity=x.quantity))
    return tuple(ops)


def _recorded(
    old: Lines, ops: tuple[CartOperation, ...] | None, new: Lines
) -> tuple[CartOperation, ...]:
    """The operations to record: the customer's, when they give exactly ``new``, else a diff."""
    kept = _kept(ops or (), new)
    return kept if ops is not None and cart_ops.apply(old, kept) == new else _diff(old, new)


def _kept(ops: tuple[CartOperation, ...], lines: Lines) -> tuple[CartOperation, ...]:
    """``ops`` without those whose product did not make it (sold out): replay stays exact."""
    wanted = {x.product_id for x in lines}
    out = []
    for op in ops:
        target = op.replacement_id if op.op is CartOp.REPLACE else op.product_id
        if op.op in (CartOp.CLEAR, CartOp.REMOVE) or target in wanted:
            out.append(op)
        elif op.op is CartOp.REPLACE:
            out.append(CartOperation(op=CartOp.REMOVE, product_id=op.product_id))
    return tuple(out)


# --------------------------------------------------------------------------- decisions


def decide(
    view: TurnView,
    cart: OpenCart,
    understanding: Understanding | None,
    catalog: Catalog,
    ids: Iterator[str],
    *,
    next_step: NextStep,
) -> list[object] | None:
    """The answer to a turn while ``cart`` is open; None: not about the cart."""
    button = view.button_id
    if button == texts.CONFIRM_ID:
        return confirm(view, cart, catalog, ids)
    if button == texts.CANCEL_ID:
        return cancel(view, cart, ids)
    if button == texts.MODIFY_ID:
        return [reply(view, ids, ct.MODIFY_ASK)]
    edits = model_edits(understanding, catalog) or read_edits(
        view.text, index_for(catalog), cart.items
    )
    moved_on = button is None and edits is not None and bool(edits.operations)
    if cart.merge is not None and not moved_on:  # "e mettimi anche 2 caffè" is an edit
        merged = _merge_answer(view, cart, cart.merge, next_step)
        if merged is not None:
            return merged
    asking = understanding is not None and understanding.intent is Intent.PRODUCT_INQUIRY
    if edits is not None and not (asking and not edits.targets_cart):  # "avete anche X?"
        aside = cart_ops.set_aside(cart.merge, edits.operations, catalog) if moved_on else ()
        return apply_edits(view, cart, edits, catalog, ids, next_step=next_step, aside=aside)
    return _answer(view, cart, understanding, catalog, ids)


def _answer(
    view: TurnView,
    cart: OpenCart,
    understanding: Understanding | None,
    catalog: Catalog,
    ids: Iterator[str],
) -> list[object] | None:
    answer = model_answer(understanding) or read_answer(view.text)
    if answer is Answer.CANCEL:
        return cancel(view, cart, ids)
    ordering = understanding is not None and understanding.intent is Intent.ORDER_REQUEST
    if ordering and understanding is not None and (understanding.cart or understanding.unresolved):
        return ask_merge(view, cart, understanding, catalog, ids)
    if answer is Answer.CONFIRM:
        return confirm(view, cart, catalog, ids)
    if answer is Answer.MODIFY:
        return [reply(view, ids, ct.MODIFY_ASK)]
    if answer is Answer.UNCLEAR:
        return [reply(view, ids, ct.UNCLEAR, texts.CART_BUTTONS)]
    return None


def confirm(view: TurnView, cart: OpenCart, catalog: Catalog, ids: Iterator[str]) -> list[object]:
    """Confirm the cart after checking stock again; sold-out lines are dropped, lines over
    the stock cut to it, and both told (the cart is proposed again)."""
    gone, short = cart_ops.sold_out(cart.items, catalog), cart_ops.over_stock(cart.items, catalog)
    if not gone and not short:
        return [
            CartConfirmed(cart_id=cart.cart_id, wamid=view.reply_to),
            reply(view, ids, texts.CONFIRMED),
        ]
    left = cart_ops.without(cart.items, gone)
    ops = tuple(CartOperation(op=CartOp.REMOVE, product_id=p.id) for p in gone) + tuple(
        CartOperation(op=CartOp.SET, product_id=p.id, quantity=p.stock) for p in short
    )
    note = ct.gone_at_confirmation(gone) if gone else ""
    return propose(view, ids, catalog, left, previous=cart, ops=ops, note=note, reason="sold_out")


def cancel(view: TurnView, cart: OpenCart, ids: Iterator[str]) -> list[object]:
    """Drop the cart at the customer's word (never handed to a human)."""
    return [
        CartCancelled(cart_id=cart.cart_id, reason="customer"),
        reply(view, ids, texts.CANCELLED),
    ]


def apply_edits(
    view: TurnView,
    cart: OpenCart,
    edits: EditReading,
    catalog: Catalog,
    ids: Iterator[str],
    *,
    next_step: NextStep,
    aside: Sequence[str] = (),
) -> list[object]:
    """Apply what the customer asked to change, or say why the cart stays as it is
    (``aside``: products of an unanswered "add or start over?" that it leaves out, told)."""
    if edits.bad_quantity is not None:
        body = ct.with_note(
            ct.BAD_QUANTITY[edits.bad_quantity], ct.UNCHANGED + "\n" + summary(cart.lines)
        )
        return [reply(view, ids, body, texts.CART_BUTTONS)]
    notes = []
    if edits.missing:
        notes.append(ct.missing(edits.missing))
    if edits.unknown:
        notes.append(ct.not_sold(edits.unknown))
    lines = cart_ops.apply(cart.items, edits.operations)
    if edits.unresolved:
        asked = tuple(
            UnresolvedLine(text=x.text, quantity=x.quantity, candidates=x.candidates)
            for x in edits.unresolved
        )
        return next_step(lines, asked)
    note, told = "\n".join(notes), ct.set_aside(aside) if aside else ""
    return propose(
        view, ids, catalog, lines, previous=cart, ops=edits.operations, note=note, aside=told
    )


def ask_merge(
    view: TurnView,
    cart: OpenCart,
    understanding: Understanding,
    catalog: Catalog,
    ids: Iterator[str],
) -> list[object]:
    """A new order while a cart is open: record it and ask to add or start over."""
    lines = tuple(
        UnderstoodLine(product_id=x.product_id, quantity=x.quantity) for x in understanding.cart
    )
    unresolved = tuple(
        UnresolvedLine(text=x.text, quantity=x.quantity, candidates=x.candidates)
        for x in understanding.unresolved
    )
    found = (catalog.product(x.product_id) for x in lines)
    words = [p.name for p in found if p is not None] + [x.text for x in unresolved]
    total = format_price(sum_lines(cart.lines))
    asked = CartMergeAsked(
        cart_id=cart.cart_id, lines=lines, unresolved=unresolved, wamids=view.wamids
    )
    return [asked, reply(view, ids, ct.merge_question(total, words), ct.MERGE_BUTTONS)]


def _merge_answer(
    view: TurnView, cart: OpenCart, merge: CartMergeAsked, next_step: NextStep
) -> list[object] | None:
    button = view.button_id
    answer = (
        Merge.ADD
        if button == ct.MERGE_ADD_ID
        else Merge.NEW
        if button == ct.MERGE_NEW_ID
        else read_merge(view.text)
    )
    if answer is Merge.ADD:
        ops = tuple(
            CartOperation(op=CartOp.ADD, product_id=x.product_id, quantity=x.quantity)
            for x in merge.lines
        )
        return next_step(cart_ops.apply(cart.items, ops), merge.unresolved)
    if answer is Merge.NEW:
        return next_step(merge.lines, merge.unresolved)
    return None


def without_cart(
    view: TurnView, catalog: Catalog, ids: Iterator[str], *, choice_id: str | None = None
) -> list[object] | None:
    """No cart open: a cancel drops an open choice list; a removal, change or clearing is
    told there is nothing to change. None: not such a message."""
    if choice_id is not None and read_answer(view.text) is Answer.CANCEL:
        dropped = ChoiceMade(choice_id=choice_id, product_id=None, wamid=view.reply_to)
        return [dropped, reply(view, ids, texts.CANCELLED)]
    edits = read_edits(view.text, index_for(catalog), ())
    if edits is None:
        return None
    gives = any(op.op is not CartOp.CLEAR for op in edits.operations)
    clears = any(op.op is CartOp.CLEAR for op in edits.operations)
    if (clears and not gives) or (edits.missing and not edits.operations):
        return [reply(view, ids, ct.NO_CART)]
    return None


def order_problem(view: TurnView, ids: Iterator[str]) -> list[object] | None:
    """A new order asking for zero, a negative number or thousands of something: say so."""
    bad = bad_quantity(view.text)
    if bad is None:
        return None
    return [reply(view, ids, ct.BAD_QUANTITY[bad])]


def with_alternatives(answer: str, listed: Sequence[Product], catalog: Catalog) -> str:
    """A product answer whose best match is sold out, followed by in-stock alternatives."""
    if not listed or listed[0].in_stock:
        return answer
    shown = {p.id for p in listed}
    others = [p for p in cart_ops.alternatives(listed[0], catalog) if p.id not in shown]
    return ct.with_note(answer, ct.sold_out(listed[0], others)) if others else answer
