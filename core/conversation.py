"""The conversation life cycle: stages, the transition table, the state and ``evolve``.

Stages: ``pending`` (the bot answers), ``awaiting_confirmation`` (a priced cart waits for
"Confermo"), ``open`` (people own it: the bot is silent until released), ``resolved``
(closed; the next customer message reopens it) and ``opted_out`` (nothing business-initiated
until the customer writes again or resumes on Meta's side).

The ``transitions`` table is built once at import (``model=None``, no auto transitions, no
callbacks) and consulted by :func:`next_stage` when deciding, and to draw diagrams.
:func:`evolve` never consults it: a stored event sets the stage it records and never raises.
The turn's values (:class:`TurnMessage`, :class:`CustomerTurn`, :class:`TurnContext`) are
here too; the rules that decide a turn are in :mod:`core.turn_rules`, the recorded reading
of the assistant in :mod:`core.recorded_reading`, agent actions in :mod:`core.agent_actions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core import checkout as ck
from core.business_facts import ShopFacts
from core.catalog import Catalog
from core.machines import DomainError, Move, build_table, lookup, mermaid
from core.order_status import OrderView
from core.rate_limit import remember
from core.shown import Shown, after_reading
from events.cart import CartMergeAsked, CartRevised
from events.checkout import CheckoutCompleted, CheckoutStarted
from events.conversation import (
    AgentTookOver,
    CartCancelled,
    CartConfirmed,
    CartProposed,
    ChoiceMade,
    ChoiceRequested,
    ConversationEscalated,
    ConversationReleased,
    ConversationResolved,
    ConversationStarted,
    MessageUnderstood,
    OptedIn,
    OptedOut,
    PartyKind,
    PricedLine,
    RateLimited,
    UnderstoodLine,
    UnresolvedLine,
)
from events.whatsapp import Location, MessageReceived


class Stage(StrEnum):
    """Where a conversation is in its life cycle."""

    PENDING = "pending"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    OPEN = "open"
    RESOLVED = "resolved"
    OPTED_OUT = "opted_out"
    CHECKOUT = "checkout"  # items accepted; delivery details being collected (ADR 0010)


_P, _A, _O, _R, _X = (s.value for s in tuple(Stage)[:5])
_K = Stage.CHECKOUT.value

MOVES: tuple[Move, ...] = (
    Move(trigger="customer_message", sources=(_P,), dest=_P),
    Move(trigger="customer_message", sources=(_A,), dest=_A),
    Move(trigger="customer_message", sources=(_O,), dest=_O),
    Move(trigger="customer_message", sources=(_R,), dest=_P),
    Move(trigger="customer_message", sources=(_X,), dest=_X),
    Move(trigger="propose_cart", sources=(_P, _A), dest=_A),
    Move(trigger="confirm_cart", sources=(_A,), dest=_P),
    Move(trigger="cancel_cart", sources=(_A,), dest=_P),
    Move(trigger="escalate", sources=(_P, _A), dest=_O),
    Move(trigger="take_over", sources=(_P, _A, _O, _R), dest=_O),
    Move(trigger="agent_reply", sources=(_O,), dest=_O),
    Move(trigger="release", sources=(_O,), dest=_P),
    Move(trigger="resolve", sources=(_P, _A, _O), dest=_R),
    Move(trigger="opt_out", sources=(_P, _A, _O, _R), dest=_X),
    Move(trigger="opt_in", sources=(_X,), dest=_P),
    Move(trigger="customer_message", sources=(_K,), dest=_K),
    Move(trigger="start_checkout", sources=(_A, _P), dest=_K),
    Move(trigger="complete_checkout", sources=(_K,), dest=_P),
    Move(trigger="cancel_cart", sources=(_K,), dest=_P),
    Move(trigger="propose_cart", sources=(_K,), dest=_A),
    Move(trigger="escalate", sources=(_K,), dest=_O),
    Move(trigger="take_over", sources=(_K,), dest=_O),
    Move(trigger="resolve", sources=(_K,), dest=_R),
    Move(trigger="opt_out", sources=(_K,), dest=_X),
)
"""The table as data: every allowed move (anything else is illegal)."""

TABLE = build_table(tuple(s.value for s in Stage), MOVES, initial=_P)


def next_stage(current: Stage, trigger: str) -> Stage:
    """The stage ``trigger`` leads to from ``current``; raises ``IllegalTransitionError``."""
    return Stage(lookup(TABLE, current.value, trigger))


def diagram() -> str:
    """The conversation table as a Mermaid state diagram (for docs and the dashboard)."""
    return mermaid(MOVES, initial=_P)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingCart:
    """The cart waiting for the customer's confirmation."""

    cart_id: str
    lines: tuple[PricedLine, ...]
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingChoice:
    """The open "which of these did you mean?" question of an order (see ``core.choices``)."""

    choice_id: str
    item: UnresolvedLine
    known: tuple[UnderstoodLine, ...] = ()
    later: tuple[UnresolvedLine, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationState:
    """Everything the rules need to know about one conversation, folded from its stream."""

    key: str  # E.164 phone or ``bsuid:<id>``
    stage: Stage = Stage.PENDING
    kind: PartyKind = PartyKind.CUSTOMER
    started: bool = False  # ConversationStarted recorded
    assignee: str | None = None  # the agent who owns an open conversation
    last_customer_message_at: datetime | None = None  # for the 24-hour window
    recent_inbound: tuple[datetime, ...] = ()  # sent_at of the last minute, for the rate limit
    pending_cart: PendingCart | None = None
    pending_choice: PendingChoice | None = None  # a list message waiting for a tap
    pending_merge: CartMergeAsked | None = None  # "add to the cart or start over?"
    message_count: int = 0
    rate_notice_at: datetime | None = None  # when the last rate-limit notice went out
    checkout: ck.CheckoutMemory = field(
        default_factory=ck.CheckoutMemory
    )  # delivery details (ADR 0010)
    shown: Shown | None = None  # the last product answer's products (core.shown)

    @property
    def opted_out(self) -> bool:
        """True while the customer has opted out (derived from the stage, so never stale)."""
        return self.stage is Stage.OPTED_OUT


def evolve(state: ConversationState, event: object) -> ConversationState:
    """Fold one stored event into ``state``; total: unknown or late events never raise."""
    handler = _HANDLERS.get(type(event))
    state = state if handler is None else handler(state, event)
    if isinstance(event, ck.FOLDED):
        state = replace(state, checkout=ck.evolve(state.checkout, event))
    return state


def folds(event: object) -> bool:
    """True when :func:`evolve` may change a state for ``event`` (False: it returns it as is)."""
    return type(event) in _HANDLERS or isinstance(event, ck.FOLDED)


def fold(state: ConversationState, events: Iterable[object]) -> ConversationState:
    """Fold a sequence of stored events, in order."""
    for item in events:
        state = evolve(state, item)
    return state


def _message(s: ConversationState, m: MessageReceived) -> ConversationState:
    last = s.last_customer_message_at
    return replace(
        s,
        stage=Stage.PENDING if s.stage is Stage.RESOLVED else s.stage,
        last_customer_message_at=m.sent_at if last is None else max(last, m.sent_at),
        recent_inbound=remember(s.recent_inbound, m.sent_at),
        message_count=s.message_count + 1,
    )


def _cart_closed(s: ConversationState) -> ConversationState:
    closing = s.stage is Stage.AWAITING_CONFIRMATION or s.stage is Stage.CHECKOUT
    stage = Stage.PENDING if closing else s.stage
    return replace(s, stage=stage, pending_cart=None, pending_merge=None)


def _proposed(s: ConversationState, e: CartProposed) -> ConversationState:
    cart = PendingCart(cart_id=e.cart_id, lines=e.lines, total=e.total)
    return replace(
        s,
        stage=Stage.AWAITING_CONFIRMATION,
        pending_cart=cart,
        pending_choice=None,
        pending_merge=None,
        shown=None,
    )


def _asked(s: ConversationState, e: ChoiceRequested) -> ConversationState:
    choice = PendingChoice(choice_id=e.choice_id, item=e.item, known=e.known, later=e.later)
    return replace(s, pending_choice=choice, shown=None)


def _understood(s: ConversationState, e: MessageUnderstood) -> ConversationState:
    return replace(s, shown=after_reading(s.shown, e, s.last_customer_message_at))


def _rate_limited(s: ConversationState, e: RateLimited) -> ConversationState:
    return replace(s, rate_notice_at=e.at) if e.notice_sent else s


_HANDLERS: dict[type[Any], Callable[[ConversationState, Any], ConversationState]] = {
    MessageReceived: _message,
    ConversationStarted: lambda s, e: replace(s, started=True, kind=e.kind),
    CartProposed: _proposed,
    ChoiceRequested: _asked,
    ChoiceMade: lambda s, _e: replace(s, pending_choice=None),
    CartMergeAsked: lambda s, e: replace(s, pending_merge=e),
    CartRevised: lambda s, _e: s,  # the CartProposed that follows carries the new cart
    CartConfirmed: lambda s, _e: _cart_closed(s),
    CartCancelled: lambda s, _e: _cart_closed(s),
    ConversationEscalated: lambda s, _e: replace(s, stage=Stage.OPEN, assignee=None, shown=None),
    AgentTookOver: lambda s, e: replace(s, stage=Stage.OPEN, assignee=e.agent),
    ConversationReleased: lambda s, _e: replace(
        s, stage=Stage.PENDING, assignee=None, pending_cart=None, pending_choice=None
    ),
    ConversationResolved: lambda s, _e: replace(
        s, stage=Stage.RESOLVED, assignee=None, pending_cart=None, pending_choice=None
    ),
    OptedOut: lambda s, _e: replace(
        s, stage=Stage.OPTED_OUT, pending_cart=None, pending_choice=None, assignee=None
    ),
    OptedIn: lambda s, _e: replace(s, stage=Stage.PENDING),
    RateLimited: _rate_limited,
    MessageUnderstood: _understood,
    CheckoutStarted: lambda s, _e: replace(s, stage=Stage.CHECKOUT),
    CheckoutCompleted: lambda s, _e: replace(
        s, stage=Stage.PENDING if s.stage is Stage.CHECKOUT else s.stage
    ),
}


# --------------------------------------------------------------------------- turns


class OutsideServiceWindowError(DomainError):
    """Free-form text after the 24-hour window: only approved templates may be sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnMessage:
    """One inbound message of a turn, reduced to what the rules read."""

    wamid: str
    kind: str
    text: str | None  # text, tapped button title, or media caption
    button_id: str | None  # interactive reply id or template button payload
    sent_at: datetime
    location: Location | None = None  # a shared location (the checkout's address)

    @classmethod
    def from_fact(cls, m: MessageReceived) -> TurnMessage:
        """Read a recorded ``MessageReceived``."""
        text = m.text
        if text is None and m.interactive is not None:
            text = m.interactive.title
        if text is None and m.button is not None:
            text = m.button.text
        if text is None and m.media is not None:
            text = m.media.caption
        button = m.interactive.id if m.interactive is not None else None
        if button is None and m.button is not None:
            button = m.button.payload
        return cls(
            wamid=m.wamid,
            kind=m.kind,
            text=text,
            button_id=button,
            sent_at=m.sent_at,
            location=m.location,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerTurn:
    """The inbound messages of one debounced turn, oldest first (at least one)."""

    messages: tuple[TurnMessage, ...]

    @classmethod
    def of(cls, facts: Iterable[MessageReceived]) -> CustomerTurn:
        """A turn from recorded facts."""
        return cls(messages=tuple(TurnMessage.from_fact(m) for m in facts))

    @property
    def wamids(self) -> tuple[str, ...]:
        """The ids of the turn's messages."""
        return tuple(m.wamid for m in self.messages)

    @property
    def last(self) -> TurnMessage:
        """The newest message (the one a reply quotes)."""
        return self.messages[-1]

    @property
    def at(self) -> datetime:
        """The newest ``sent_at``: the time the rate limit is measured at."""
        return max(m.sent_at for m in self.messages)

    @property
    def text(self) -> str:
        """The texts of the turn joined by new lines (empty when there is none)."""
        return "\n".join(m.text for m in self.messages if m.text)


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnContext:
    """What else a turn's decision reads: the catalogue, and recorded lookups."""

    catalog: Catalog
    kind: PartyKind = PartyKind.CUSTOMER  # from the dealer directory, for a first turn
    reply_text: str | None = None  # an assistant-written reply already recorded, if any
    shop: ShopFacts | None = None  # business facts; None: no checkout, no facts answers
    orders: tuple[OrderView, ...] = ()  # the latest order's relays, for status questions
    media_reply: str | None = None  # the answer to media with no text (see core.media)


def recipient(key: str) -> str:
    """The ``to`` of an outbound message for a conversation key (E.164 or BSUID)."""
    return key.removeprefix("bsuid:")
