"""What the assistant understood of a customer's message: intent, cart, product hits.

These values are produced by the offline Italian NLU (:mod:`core.nlu`) or by the LLM
adapter, recorded as events, and consumed by the conversation rules. They hold ids and
quantities only; prices and totals always come from the catalogue (:mod:`core.catalog`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from events.cart import CartOperation

UNSURE_BELOW = 0.55  # confidence under which two intents are too close to act on


class Intent(StrEnum):
    """The four kinds of customer message the service tells apart."""

    ORDER_REQUEST = "order_request"
    PRODUCT_INQUIRY = "product_inquiry"
    SUPPORT_REQUEST = "support_request"
    GENERAL_CHAT = "general_chat"


@dataclass(frozen=True, slots=True, kw_only=True)
class CartLine:
    """A matched product and how many units the customer asked for."""

    product_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnresolvedItem:
    """A piece of the order we could not pin to one product: ask, never guess."""

    text: str  # the words the customer used, e.g. "profumo"
    quantity: int
    candidates: tuple[str, ...] = ()  # product ids that could be meant, best first


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductHit:
    """A product found for a question, with its relevance score in [0, 1]."""

    product_id: str
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryHints:
    """Delivery details the assistant read in a turn, as words; our rules validate them.

    The checkout parses ``when`` itself (with its own clock) and checks the address
    against the zones: the model never decides a time, a fee or a total.
    """

    address: str | None = None
    when: str | None = None
    payment: str | None = None  # contanti | carta


class Topic(StrEnum):
    """What a non-order question is about (business facts, or the customer's order)."""

    OPENING_HOURS = "opening_hours"
    DELIVERY_ZONES = "delivery_zones"
    DELIVERY_FEE = "delivery_fee"
    PAYMENT_METHODS = "payment_methods"
    ORDER_STATUS = "order_status"


@dataclass(frozen=True, slots=True, kw_only=True)
class Understanding:
    """The structured reading of one customer turn."""

    intent: Intent
    confidence: float  # in [0, 1]; the offline twin answers for the LLM only when high
    cart: tuple[CartLine, ...] = ()
    unresolved: tuple[UnresolvedItem, ...] = ()
    products: tuple[ProductHit, ...] = ()  # for product questions, best first
    operations: tuple[CartOperation, ...] = ()  # edits of the open cart (the LLM's reading)
    cart_reply: str | None = None  # confirm | cancel | modify: an answer to "Confermi?"
    topic: Topic | None = None  # a business-fact or order-status question (OpenAI path)
    delivery: DeliveryHints | None = None  # checkout details read by the assistant

    @property
    def clarify(self) -> bool:
        """True when the reading is unsure: ask one short question instead of guessing.

        Derived from the recorded ``confidence`` only, so a replayed turn asks again.
        A weak product match is not a reason here: it is an :class:`UnresolvedItem`,
        which the conversation asks about item by item.
        """
        return self.confidence < UNSURE_BELOW
