"""Conversation decisions and outcomes, recorded in the customer's ``conversation-<key>`` stream.

The inbound facts (:mod:`events.whatsapp`) sit in the same stream. Everything the bot or an
agent decides is one of the events below, so folding the stream (``core.conversation.evolve``)
gives the same state on replay as it had live, without calling the assistant or Meta again.
Payloads hold business facts only; ids of recording and positions live in the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from events.base import event
from events.upcasting import upcaster

# --------------------------------------------------------------------------- values


class PartyKind(StrEnum):
    """Who is on the other side of the conversation."""

    CUSTOMER = "customer"
    DEALER = "dealer"


class ReplyKind(StrEnum):
    """The shape of an outbound message (only templates may leave the 24-hour window)."""

    TEXT = "text"
    BUTTONS = "buttons"
    LIST = "list"
    TEMPLATE = "template"
    REACTION = "reaction"


class Sender(StrEnum):
    """Who wrote an outbound message."""

    BOT = "bot"
    AGENT = "agent"


class OptSource(StrEnum):
    """How an opt-out or opt-in reached us."""

    KEYWORD = "keyword"  # the customer wrote STOP, basta, ...
    META = "meta"  # Meta's user_preferences webhook (marketing stop / resume)
    MESSAGE = "message"  # opt-in only: the customer wrote to us again


@dataclass(frozen=True, slots=True, kw_only=True)
class UnderstoodLine:
    """A product the assistant matched and how many units were asked for."""

    product_id: str
    quantity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnresolvedLine:
    """Words of an order the assistant could not pin to one product."""

    text: str
    quantity: int
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductMatch:
    """A product found for a question, with its relevance score in [0, 1]."""

    product_id: str
    score: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReading:
    """Delivery details the assistant read (words only; the checkout validates them)."""

    address: str | None = None
    when: str | None = None
    payment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantTraceRecord:
    """How an assistant result was produced (engine, model, prompt, cost)."""

    engine: str  # offline | openai | cache
    model: str | None
    prompt_version: str
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PricedLine:
    """One cart line priced from the catalogue at proposal time (kept, as prices change)."""

    product_id: str
    dealer_id: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyButton:
    """One reply button of an outbound message."""

    id: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyRow:
    """One row of a list message; ``id`` comes back in the customer's ``list_reply``."""

    id: str
    title: str
    description: str = ""
    section: str = ""  # rows of one section are consecutive


# --------------------------------------------------------------------------- events


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationStarted:
    """The first turn of a conversation: who the other party is (customer or dealer)."""

    TYPE: ClassVar[str] = "conversation.started"
    VERSION: ClassVar[int] = 1

    key: str  # E.164 phone or ``bsuid:<id>``
    kind: PartyKind


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MessageUnderstood:
    """What the assistant read in one customer turn, with how it was obtained."""

    TYPE: ClassVar[str] = "conversation.message_understood"
    VERSION: ClassVar[int] = 2
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"unresolved", "delivery"})

    wamids: tuple[str, ...]  # the messages of the turn
    intent: str  # order_request | product_inquiry | support_request | general_chat
    confidence: float
    cart: tuple[UnderstoodLine, ...] = ()
    unresolved: tuple[UnresolvedLine, ...] = ()
    products: tuple[ProductMatch, ...] = ()
    trace: AssistantTraceRecord
    topic: str | None = None  # v2: opening_hours | delivery_zones | ... | order_status
    delivery: DeliveryReading | None = None  # v2: checkout details the assistant read


@upcaster(MessageUnderstood.TYPE, 1)
def _message_understood_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 read no business topic and no delivery details."""
    return {**data, "topic": None, "delivery": None}


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyQueued:
    """An outbound message put in the outbox under our own id; the sender records the outcome."""

    TYPE: ClassVar[str] = "conversation.reply_queued"
    VERSION: ClassVar[int] = 3
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"to", "text"})

    outbound_id: str  # also sent as biz_opaque_callback_data
    to: str  # E.164 or BSUID
    kind: ReplyKind
    text: str  # body text (template: its name)
    buttons: tuple[ReplyButton, ...] = ()
    in_reply_to: str | None = None  # wamid quoted or answered
    sender: Sender = Sender.BOT
    agent: str | None = None  # when an agent wrote it
    rows: tuple[ReplyRow, ...] = ()  # v2: the rows of a list message
    list_button: str | None = None  # v2: the label of the button that opens the list
    template_params: tuple[str, ...] = ()  # v3: a template's body parameters, in order


@upcaster(ReplyQueued.TYPE, 1)
def _reply_queued_v1(data: dict[str, Any]) -> dict[str, Any]:
    """v1 had no list messages: no rows, no list button."""
    return {**data, "rows": [], "list_button": None}


@upcaster(ReplyQueued.TYPE, 2)
def _reply_queued_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v2 sent templates without parameters."""
    return {**data, "template_params": []}


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundSent:
    """Meta accepted an outbound message and gave it a wamid."""

    TYPE: ClassVar[str] = "conversation.outbound_sent"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    wamid: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundFailed:
    """A send failed; ``outcome_unknown`` means it may have been delivered: never resend blindly."""

    TYPE: ClassVar[str] = "conversation.outbound_failed"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    code: int | None
    title: str | None
    retryable: bool
    outcome_unknown: bool = False


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartProposed:
    """The bot showed a priced cart and asked the customer to confirm it."""

    TYPE: ClassVar[str] = "conversation.cart_proposed"
    VERSION: ClassVar[int] = 1

    cart_id: str
    lines: tuple[PricedLine, ...]
    total: Decimal
    currency: str = "EUR"
    wamids: tuple[str, ...] = ()  # the turn the cart was read from


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartConfirmed:
    """The customer confirmed the proposed cart: the order relays may start."""

    TYPE: ClassVar[str] = "conversation.cart_confirmed"
    VERSION: ClassVar[int] = 1

    cart_id: str
    wamid: str | None  # the confirming message


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class CartCancelled:
    """The proposed cart was dropped: ``customer``, ``modify``, ``expired``, ``opted_out``."""

    TYPE: ClassVar[str] = "conversation.cart_cancelled"
    VERSION: ClassVar[int] = 1

    cart_id: str
    reason: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationEscalated:
    """The bot handed the conversation to people; it stays silent until released."""

    TYPE: ClassVar[str] = "conversation.escalated"
    VERSION: ClassVar[int] = 1

    reason: str  # support_request | send_failed | ...


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTookOver:
    """A support agent took the conversation from the bot."""

    TYPE: ClassVar[str] = "conversation.agent_took_over"
    VERSION: ClassVar[int] = 1

    agent: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationReleased:
    """The agent handed the conversation back to the bot."""

    TYPE: ClassVar[str] = "conversation.released"
    VERSION: ClassVar[int] = 1

    agent: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationResolved:
    """An agent closed the conversation; the next customer message reopens it."""

    TYPE: ClassVar[str] = "conversation.resolved"
    VERSION: ClassVar[int] = 1

    agent: str


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OptedOut:
    """The customer asked for no more messages: nothing business-initiated until they return."""

    TYPE: ClassVar[str] = "conversation.opted_out"
    VERSION: ClassVar[int] = 1

    source: OptSource
    keyword: str | None = None  # the canonical keyword recognised


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OptedIn:
    """The customer came back (wrote to us, or resumed on Meta's side)."""

    TYPE: ClassVar[str] = "conversation.opted_in"
    VERSION: ClassVar[int] = 1

    source: OptSource


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimited:
    """A turn went over the per-phone limit; ``notice_sent`` when the one notice was queued."""

    TYPE: ClassVar[str] = "conversation.rate_limited"
    VERSION: ClassVar[int] = 1

    wamids: tuple[str, ...]
    at: datetime  # the turn's time the rolling window was measured at
    notice_sent: bool


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantFailed:
    """The assistant could not answer after its retries; the fallback text goes out instead."""

    TYPE: ClassVar[str] = "conversation.assistant_failed"
    VERSION: ClassVar[int] = 1

    operation: str  # understand | reply
    error: str
    wamids: tuple[str, ...] = ()


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceRequested:
    """The bot asked which product an order item meant (a list message); the order waits.

    ``known`` are the lines of the same order already matched, ``later`` the items still
    to ask about once this one is answered.
    """

    TYPE: ClassVar[str] = "conversation.choice_requested"
    VERSION: ClassVar[int] = 1

    choice_id: str
    item: UnresolvedLine
    known: tuple[UnderstoodLine, ...] = ()
    later: tuple[UnresolvedLine, ...] = ()
    wamids: tuple[str, ...] = ()  # the turn the order was read from


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceMade:
    """The customer tapped a row of a choice list; ``product_id`` None: none of these."""

    TYPE: ClassVar[str] = "conversation.choice_made"
    VERSION: ClassVar[int] = 1

    choice_id: str
    product_id: str | None
    wamid: str
