"""Cart edits, recorded in the customer's ``conversation-<key>`` stream.

A revised cart is three facts in one append: ``CartCancelled`` (reason ``revised``) of the
old cart, :class:`CartRevised` with the operations the customer asked for, and the
``CartProposed`` of the new cart (a new id, so the order relays of the old one are
cancelled and new ones drafted). The operations applied to the old cart's lines give the
new cart's lines (:func:`core.cart_ops.apply`): replay reads both and never re-parses
the customer's words. See ADR 0009.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from events.base import event
from events.conversation import UnderstoodLine, UnresolvedLine


class CartOp(StrEnum):
    """What one operation does to a cart."""

    ADD = "add"  # quantity more of product_id (a new line when absent)
    REMOVE = "remove"  # quantity fewer of product_id; None: the whole line
    SET = "set"  # product_id's quantity becomes quantity
    REPLACE = "replace"  # replacement_id takes product_id's line (quantity kept unless given)
    CLEAR = "clear"  # every line goes


@dataclass(frozen=True, slots=True, kw_only=True)
class CartOperation:
    """One change the customer asked for."""

    op: CartOp
    product_id: str | None = None
    quantity: int | None = None
    replacement_id: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartRevised:
    """The customer changed the open cart; the new cart's ``CartProposed`` follows."""

    TYPE: ClassVar[str] = "conversation.cart_revised"
    VERSION: ClassVar[int] = 1

    cart_id: str  # the new cart
    previous_cart_id: str
    operations: tuple[CartOperation, ...]
    wamids: tuple[str, ...] = ()  # the turn the edit was read from
    reason: str = "customer"  # customer | sold_out (lines dropped when confirming)


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartMergeAsked:
    """A new order arrived while a cart was open: the bot asked to add to it or start over."""

    TYPE: ClassVar[str] = "conversation.cart_merge_asked"
    VERSION: ClassVar[int] = 1

    cart_id: str  # the open cart
    lines: tuple[UnderstoodLine, ...]
    unresolved: tuple[UnresolvedLine, ...] = ()
    wamids: tuple[str, ...] = ()


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartEditUnderstood:
    """What the LLM read of a turn about the open cart, recorded beside ``MessageUnderstood``.

    Only written when the assistant returned operations or a short answer (the offline
    twin reads edits in the pure rules instead). Replay reads it and never calls out;
    our code checks the ids and computes every total.
    """

    TYPE: ClassVar[str] = "conversation.cart_edit_understood"
    VERSION: ClassVar[int] = 1

    wamids: tuple[str, ...]
    operations: tuple[CartOperation, ...] = ()
    cart_reply: str | None = None  # confirm | cancel | modify
