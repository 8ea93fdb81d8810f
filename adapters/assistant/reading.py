"""The structured answer the model fills in for ``understand``, and how we read it.

The schema (strict structured outputs) carries the intent, the cart, unresolved items,
products asked about, and for a turn about the open cart its edits and a short answer to
"Confermi?"; a business or order-status ``topic``; the delivery words of a checkout.
:func:`validated` trusts nothing: a product id missing from the catalogue becomes an
unresolved item; cart operations are checked again when applied
(:mod:`core.cart_reading`), and every total is computed by our code.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

from core.catalog import Catalog
from core.understanding import (
    CartLine,
    DeliveryHints,
    Intent,
    ProductHit,
    Topic,
    Understanding,
    UnresolvedItem,
)
from events.cart import CartOp, CartOperation


class _CartItem(pydantic.BaseModel):
    product_id: str
    quantity: int
    text: str


class _UnresolvedItem(pydantic.BaseModel):
    text: str
    quantity: int
    candidates: list[str]


class _CartOperation(pydantic.BaseModel):
    op: Literal["add", "remove", "set", "replace", "clear"]
    product_id: str  # "" for clear
    quantity: int  # 0: not said (remove: the whole line)
    replacement_id: str  # replace only, else ""


class _Delivery(pydantic.BaseModel):
    address: str = ""
    when: str = ""
    payment: Literal["none", "contanti", "carta"] = "none"


TopicName = Literal[
    "none", "opening_hours", "delivery_zones", "delivery_fee", "payment_methods", "order_status"
]


class CustomerMessageReading(pydantic.BaseModel):
    """The strict JSON schema the model fills in for ``understand`` (sent by name).

    ``cart_operations`` and ``cart_reply`` read a turn about the open cart; answers
    without them (older prompts, scripted tests) mean none.
    """

    intent: Literal["order_request", "product_inquiry", "support_request", "general_chat"]
    confidence: float
    cart: list[_CartItem]
    unresolved: list[_UnresolvedItem]
    products: list[str]
    cart_operations: list[_CartOperation] = []
    cart_reply: Literal["none", "confirm", "cancel", "modify"] = "none"
    topic: TopicName = "none"  # a business-fact or order-status question
    delivery: _Delivery = pydantic.Field(default_factory=_Delivery)  # checkout words


def strict_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema in the form strict structured outputs accept.

    Every object lists all its properties as required and allows no others; defaults
    (which only serve reading older answers) are not sent.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k != "default"}
            if out.get("type") == "object" and "properties" in out:
                out["required"] = list(out["properties"])
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema: dict[str, Any] = walk(model.model_json_schema())
    return schema


READING_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "CustomerMessageReading",
        "strict": True,
        "schema": strict_schema(CustomerMessageReading),
    },
}


def validated(reading: CustomerMessageReading, catalog: Catalog) -> Understanding:
    """Our :class:`Understanding` from the model's reading; unknown ids are not trusted."""
    cart: dict[str, int] = {}
    unresolved: list[UnresolvedItem] = []
    for item in reading.cart:
        if catalog.product(item.product_id) is None or item.quantity < 1:
            unresolved.append(UnresolvedItem(text=item.text, quantity=max(item.quantity, 1)))
        else:
            cart[item.product_id] = cart.get(item.product_id, 0) + item.quantity
    for u in reading.unresolved:
        known = tuple(c for c in u.candidates if catalog.product(c) is not None)
        unresolved.append(
            UnresolvedItem(text=u.text, quantity=max(u.quantity, 1), candidates=known)
        )
    asked = [pid for pid in dict.fromkeys(reading.products) if catalog.product(pid) is not None]
    confidence = reading.confidence if 0.0 <= reading.confidence <= 1.0 else 0.0
    return Understanding(
        operations=tuple(_operation(o) for o in reading.cart_operations),
        cart_reply=None if reading.cart_reply == "none" else reading.cart_reply,
        intent=Intent(reading.intent),
        confidence=confidence,
        cart=tuple(CartLine(product_id=pid, quantity=q) for pid, q in cart.items()),
        unresolved=tuple(unresolved),
        products=tuple(
            ProductHit(product_id=pid, score=round(max(1.0 - 0.1 * rank, 0.1), 2))
            for rank, pid in enumerate(asked)
        ),
        topic=None if reading.topic == "none" else Topic(reading.topic),
        delivery=_delivery(reading.delivery),
    )


def _delivery(d: _Delivery) -> DeliveryHints | None:
    """The model's delivery words; empty strings and ``none`` mean not said."""
    payment = None if d.payment == "none" else d.payment
    hints = DeliveryHints(
        address=d.address.strip() or None, when=d.when.strip() or None, payment=payment
    )
    return hints if (hints.address or hints.when or hints.payment) else None


def _operation(o: _CartOperation) -> CartOperation:
    """The model's operation as ours; ids are checked against the catalogue when applied."""
    return CartOperation(
        op=CartOp(o.op),
        product_id=o.product_id or None,
        quantity=o.quantity if o.quantity != 0 else None,
        replacement_id=o.replacement_id or None,
    )
