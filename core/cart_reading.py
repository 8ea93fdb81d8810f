"""The assistant's reading of a turn about the open cart, checked and recorded.

The LLM may return cart operations and a short answer (confirm / cancel / modify) with
its understanding. They are recorded as :class:`~events.cart.CartEditUnderstood` next to
``MessageUnderstood`` (replay puts them back, never calling out), and checked here before
use: unknown product ids and impossible quantities are not trusted. Our code applies
the operations and computes every total, so the model never sets a price. Pure.
"""

from __future__ import annotations

from dataclasses import replace

from core import cart_ops
from core.catalog import Catalog
from core.nlu.answers import Answer
from core.nlu.edits import EditReading
from core.understanding import Understanding
from events.cart import CartEditUnderstood, CartOp, CartOperation

_MODEL_ANSWERS = frozenset({Answer.CONFIRM.value, Answer.CANCEL.value, Answer.MODIFY.value})


def edit_event(wamids: tuple[str, ...], understanding: Understanding) -> CartEditUnderstood | None:
    """The record of the assistant's cart reading of a turn (None when it gave none)."""
    if not understanding.operations and understanding.cart_reply is None:
        return None
    return CartEditUnderstood(
        wamids=wamids, operations=understanding.operations, cart_reply=understanding.cart_reply
    )


def with_edit(understanding: Understanding, recorded: CartEditUnderstood | None) -> Understanding:
    """``understanding`` with a recorded cart reading put back (replay)."""
    if recorded is None:
        return understanding
    return replace(understanding, operations=recorded.operations, cart_reply=recorded.cart_reply)


def model_edits(understanding: Understanding | None, catalog: Catalog) -> EditReading | None:
    """The assistant's operations, checked: unknown ids and bad quantities are not trusted."""
    if understanding is None or not understanding.operations:
        return None
    kept: list[CartOperation] = []
    missing: list[str] = []
    bad = None
    for op in understanding.operations:
        targets = [x for x in (op.product_id, op.replacement_id) if x]
        if any(catalog.product(x) is None for x in targets):
            missing.extend(x for x in targets if catalog.product(x) is None)
            continue
        if op.quantity is not None and op.quantity > cart_ops.MAX_PER_PRODUCT:
            bad = "too_many"
        elif op.quantity is not None and op.quantity < 1 and op.op in (CartOp.ADD, CartOp.SET):
            bad = "zero" if op.quantity == 0 else "negative"
        kept.append(op)
    changes = any(op.op is not CartOp.ADD for op in kept)
    return EditReading(
        operations=tuple(kept), missing=tuple(missing), bad_quantity=bad, targets_cart=changes
    )


def model_answer(understanding: Understanding | None) -> Answer | None:
    """The assistant's reading of a short answer (confirm, cancel, modify), if it gave one."""
    said = understanding.cart_reply if understanding is not None else None
    return Answer(said) if said in _MODEL_ANSWERS else None
