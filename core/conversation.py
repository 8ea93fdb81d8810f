"""The conversation life cycle: stages, the transition table, the state and ``evolve``.

Stages: ``pending`` (the bot answers), ``awaiting_confirmation`` (a priced cart waits for
"Confermo"), ``open`` (people own it: the bot is silent until released), ``resolved``
(closed; the next customer message reopens it) and ``opted_out`` (nothing business-initiated
until the customer writes again or resumes on Meta's side).

The ``transitions`` table is built once at import (``model=None``, no auto transitions, no
callbacks) and consulted by :func:`next_stage` when deciding, and to draw diagrams.
:func:`evolve` never consults it: a stored event sets the stage it records and never raises.
The decision rules follow: :func:`decide_turn` for a customer's turn, :func:`decide_agent_action`
for dashboard actions (the only ones that raise), :func:`decide_preferences` for Meta's
marketing stop / resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core import alerts, cart_turn, checkout_turn, choices, typed_choice
from core import checkout as ck
from core import conversation_texts as texts
from core.business_facts import ShopFacts
from core.catalog import Catalog
from core.nlu import replies
from core.optout import opt_out_keyword
from core.order_relay import (
    DomainError,
    Move,
    build_table,
    lookup,
    mermaid,
)
from core.order_status import OrderView
from core.ports import Understood
from core.rate_limit import check, remember
from core.understanding import (
    CartLine,
    Intent,
    ProductHit,
    Understanding,
    UnresolvedItem,
)
from core.window import outbound_allowed, within_service_window
from events.cart import CartMergeAsked, CartRevised
from events.checkout import CheckoutCompleted, CheckoutStarted
from events.conversation import (
    AgentTookOver,
    AssistantTraceRecord,
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
    OptSource,
    PartyKind,
    PricedLine,
    ProductMatch,
    RateLimited,
    ReplyButton,
    ReplyKind,
    ReplyQueued,
    ReplyRow,
    UnderstoodLine,
    UnresolvedLine,
)
from events.whatsapp import Location, MessageReceived, UserPreferencesReceived


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
    )


def _asked(s: ConversationState, e: ChoiceRequested) -> ConversationState:
    choice = PendingChoice(choice_id=e.choice_id, item=e.item, known=e.known, later=e.later)
    return replace(s, pending_choice=choice)


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
    ConversationEscalated: lambda s, _e: replace(s, stage=Stage.OPEN, assignee=None),
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


def understanding_event(wamids: tuple[str, ...], understood: Understood) -> MessageUnderstood:
    """The event recording what the assistant understood of a turn (before acting on it)."""
    u, t = understood.understanding, understood.trace
    return MessageUnderstood(
        wamids=wamids,
        intent=u.intent.value,
        confidence=u.confidence,
        cart=tuple(UnderstoodLine(product_id=c.product_id, quantity=c.quantity) for c in u.cart),
        unresolved=tuple(
            UnresolvedLine(text=x.text, quantity=x.quantity, candidates=x.candidates)
            for x in u.unresolved
        ),
        products=tuple(ProductMatch(product_id=p.product_id, score=p.score) for p in u.products),
        trace=AssistantTraceRecord(
            engine=t.engine,
            model=t.model,
            prompt_version=t.prompt_version,
            latency_ms=t.latency_ms,
            prompt_tokens=t.prompt_tokens,
            completion_tokens=t.completion_tokens,
            cached=t.cached,
        ),
        topic=u.topic.value if u.topic is not None else None,
        delivery=checkout_turn.delivery_reading(u.delivery),
    )


def understanding_of(e: MessageUnderstood) -> Understanding:
    """The :class:`Understanding` a recorded event holds (replay and what-if runs)."""
    return Understanding(
        intent=Intent(e.intent),
        confidence=e.confidence,
        cart=tuple(CartLine(product_id=c.product_id, quantity=c.quantity) for c in e.cart),
        unresolved=tuple(
            UnresolvedItem(text=x.text, quantity=x.quantity, candidates=x.candidates)
            for x in e.unresolved
        ),
        products=tuple(ProductHit(product_id=p.product_id, score=p.score) for p in e.products),
        topic=checkout_turn.topic_of(e.topic),
        delivery=checkout_turn.delivery_hints(e.delivery),
    )


# --------------------------------------------------------------------------- decisions


def recipient(key: str) -> str:
    """The ``to`` of an outbound message for a conversation key (E.164 or BSUID)."""
    return key.removeprefix("bsuid:")


def _reply(
    s: ConversationState,
    turn: CustomerTurn,
    ids: Iterator[str],
    text: str,
    buttons: tuple[ReplyButton, ...] = (),
    *,
    rows: tuple[ReplyRow, ...] = (),
) -> ReplyQueued:
    kind = ReplyKind.LIST if rows else ReplyKind.BUTTONS if buttons else ReplyKind.TEXT
    return ReplyQueued(
        outbound_id=next(ids),
        to=recipient(s.key),
        kind=kind,
        text=text,
        buttons=buttons,
        in_reply_to=turn.last.wamid,
        rows=rows,
        list_button=choices.LIST_BUTTON if rows else None,
    )


def decide_turn(
    state: ConversationState,
    turn: CustomerTurn,
    understanding: Understanding | None,
    now: datetime,
    ids: Iterator[str],
    *,
    context: TurnContext,
) -> list[object]:
    """What to do with one customer turn, already folded into ``state``.

    In order: opt-out keywords; a return after opting out (opt-in); silence while people
    own the conversation; nothing after the 24-hour window; the rate limit; then the
    cart answer or the intent. Customer turns are facts: this never raises.
    """
    out: list[object] = []
    if not state.started:
        out.append(ConversationStarted(key=state.key, kind=context.kind))
    live = within_service_window(state.last_customer_message_at, now)
    keyword = next(filter(None, (opt_out_keyword(m.text) for m in turn.messages)), None)
    if keyword is not None:
        return out + _opt_out(state, turn, keyword, ids, live=live)
    if state.opted_out:
        out.append(OptedIn(source=OptSource.MESSAGE))
    current = fold(state, out)
    if current.stage is Stage.OPEN or not live:
        return out
    verdict = check(current.recent_inbound, turn.at, notice_sent_at=current.rate_notice_at)
    if not verdict.allowed:
        limited = RateLimited(wamids=turn.wamids, at=turn.at, notice_sent=verdict.notice_due)
        notice = [_reply(current, turn, ids, texts.RATE_LIMITED)] if verdict.notice_due else []
        return [*out, limited, *notice]
    if current.kind is PartyKind.DEALER:
        return out  # dealers' answers are read by the order-relay rules
    return out + _answer(current, turn, understanding, ids, context, now=now)


def needs_understanding(state: ConversationState, turn: CustomerTurn, now: datetime) -> bool:
    """Whether :func:`decide_turn` may read an understanding of ``turn``.

    The reactor asks the assistant only then: not for opt-outs, while people own the
    conversation, outside the 24-hour window, past the rate limit or for dealers.
    """
    if any(opt_out_keyword(m.text) for m in turn.messages):
        return False
    if state.stage is Stage.OPEN or state.kind is PartyKind.DEALER:
        return False
    if choices.read_tap(turn.last.button_id) is not None:
        return False  # a tapped row of our list says everything: no assistant needed
    if not within_service_window(state.last_customer_message_at, now):
        return False
    return check(state.recent_inbound, turn.at, notice_sent_at=state.rate_notice_at).allowed


def _opt_out(
    s: ConversationState, turn: CustomerTurn, keyword: str, ids: Iterator[str], *, live: bool
) -> list[object]:
    if s.opted_out:
        return []
    out = [*_drop_cart(s, "opted_out"), OptedOut(source=OptSource.KEYWORD, keyword=keyword)]
    if live:
        out.append(_reply(s, turn, ids, texts.OPTED_OUT))
    return out


def _drop_cart(s: ConversationState, reason: str) -> list[object]:
    if s.pending_cart is None:
        return []
    return [CartCancelled(cart_id=s.pending_cart.cart_id, reason=reason)]


def _answer(
    s: ConversationState,
    turn: CustomerTurn,
    understanding: Understanding | None,
    ids: Iterator[str],
    context: TurnContext,
    *,
    now: datetime,
) -> list[object]:
    tap = choices.read_tap(turn.last.button_id) or _typed_tap(s, turn, context.catalog)
    if tap is not None:
        return _choice_answer(s, tap, turn, ids, context.catalog)

    def reply(text: str) -> ReplyQueued:
        return _reply(s, turn, ids, text)

    before: list[object] = []
    if s.stage is Stage.CHECKOUT and context.shop is not None:
        last = turn.last
        step = checkout_turn.TurnInput(
            text=turn.text, button_id=last.button_id, wamid=last.wamid,
            location=next((m.location for m in turn.messages if m.location), None), now=now,
        )  # fmt: skip
        before, done = checkout_turn.checkout_answer(
            s.checkout, step, understanding, context.shop, reply
        )
        if done:
            return before
        s = fold(s, before)
    facts = checkout_turn.business_answer(
        turn.text, context.shop, context.orders, understanding, reply
    )
    if facts:
        return before + facts
    handled = _cart_hook(s, turn, understanding, ids, context.catalog)
    if handled is not None:
        if s.stage is Stage.AWAITING_CONFIRMATION and s.pending_cart is not None:
            cart = (s.pending_cart.cart_id, s.pending_cart.lines, s.pending_cart.total)
            handled = checkout_turn.with_checkout(handled, cart, s.checkout, context.shop, reply)
        return before + handled
    return before + _intent_answer(s, turn, understanding, ids, context)


def _intent_answer(
    s: ConversationState,
    turn: CustomerTurn,
    understanding: Understanding | None,
    ids: Iterator[str],
    context: TurnContext,
) -> list[object]:
    if understanding is None:
        plain = texts.FALLBACK if turn.text else texts.NON_TEXT
        return [_reply(s, turn, ids, context.media_reply or plain)]
    if understanding.clarify:  # two readings too close: one short question (issue 19)
        return [_reply(s, turn, ids, replies.CLARIFY)]
    intent = understanding.intent
    if intent is Intent.ORDER_REQUEST:
        return _order(s, turn, understanding, ids, context.catalog)
    if intent is Intent.SUPPORT_REQUEST:
        escalated = ConversationEscalated(reason="support_request")
        alert = alerts.escalation(next(ids), s.key, escalated.reason)
        return [escalated, alert, _reply(s, turn, ids, texts.ESCALATED)]
    if intent is Intent.PRODUCT_INQUIRY:
        found = (context.catalog.product(h.product_id) for h in understanding.products)
        listed = [p for p in found if p is not None]
        draft = cart_turn.with_alternatives(replies.product_list(listed), listed, context.catalog)
        return [_reply(s, turn, ids, context.reply_text or draft)]
    return [_reply(s, turn, ids, context.reply_text or replies.chat_reply(turn.text))]


def _view(s: ConversationState, turn: CustomerTurn) -> cart_turn.TurnView:
    last = turn.last
    return cart_turn.TurnView(
        to=recipient(s.key),
        wamids=turn.wamids,
        reply_to=last.wamid,
        text=last.text or "",
        button_id=last.button_id,
    )


def _open_cart(s: ConversationState) -> cart_turn.OpenCart | None:
    if s.stage is not Stage.AWAITING_CONFIRMATION or s.pending_cart is None:
        return None
    cart = s.pending_cart
    return cart_turn.OpenCart(cart_id=cart.cart_id, lines=cart.lines, merge=s.pending_merge)


def _typed_tap(s: ConversationState, turn: CustomerTurn, catalog: Catalog) -> choices.Tap | None:
    """A typed answer to the open choice list ("la prima", "per gatto"), as if tapped."""
    choice = s.pending_choice
    if choice is None or turn.last.button_id is not None or not turn.last.text:
        return None
    picked = typed_choice.read_typed(turn.last.text, choice.item, catalog)
    if picked is None:
        return None
    return choices.Tap(
        choice_id=choice.choice_id, product_id=None if picked == choices.NONE else picked
    )


def _cart_hook(
    s: ConversationState,
    turn: CustomerTurn,
    understanding: Understanding | None,
    ids: Iterator[str],
    catalog: Catalog,
) -> list[object] | None:
    """The cart rules (:mod:`core.cart_turn`): None when the turn is not about the cart."""
    view, cart = _view(s, turn), _open_cart(s)
    if cart is None:
        choice = s.pending_choice.choice_id if s.pending_choice else None
        return cart_turn.without_cart(view, catalog, ids, choice_id=choice)

    def next_step(
        known: tuple[UnderstoodLine, ...], ambiguous: tuple[UnresolvedLine, ...]
    ) -> list[object]:
        return _next_step(s, turn, ids, catalog, known=known, ambiguous=ambiguous, nothing=None)

    return cart_turn.decide(view, cart, understanding, catalog, ids, next_step=next_step)


def _order(
    s: ConversationState,
    turn: CustomerTurn,
    understanding: Understanding,
    ids: Iterator[str],
    catalog: Catalog,
) -> list[object]:
    problem = cart_turn.order_problem(_view(s, turn), ids)
    if problem is not None:
        return problem
    known: tuple[UnderstoodLine, ...] = ()
    for line in understanding.cart:
        if catalog.product(line.product_id):
            known = choices.add_line(known, line.product_id, line.quantity)
    asked = tuple(
        UnresolvedLine(text=x.text, quantity=x.quantity, candidates=x.candidates)
        for x in understanding.unresolved
    )
    unknown = [x for x in asked if not choices.options(x, catalog)]
    ambiguous = tuple(x for x in asked if choices.options(x, catalog))
    out: list[object] = []
    if unknown:
        out.append(_reply(s, turn, ids, choices.not_sold(unknown)))
    nothing = replies.ORDER_ASK if not unknown else None
    return out + _next_step(
        s, turn, ids, catalog, known=known, ambiguous=ambiguous, nothing=nothing
    )


def _next_step(
    s: ConversationState,
    turn: CustomerTurn,
    ids: Iterator[str],
    catalog: Catalog,
    *,
    known: tuple[UnderstoodLine, ...],
    ambiguous: tuple[UnresolvedLine, ...],
    nothing: str | None,
) -> list[object]:
    """Ask about the next ambiguous item, else propose the cart (else say ``nothing``)."""
    if ambiguous:
        item, later = ambiguous[0], ambiguous[1:]
        choice_id = next(ids)
        asked = ChoiceRequested(
            choice_id=choice_id, item=item, known=known, later=later, wamids=turn.wamids
        )
        rows = choices.rows(choice_id, item, choices.options(item, catalog))
        return [asked, _reply(s, turn, ids, choices.question(item), rows=rows)]
    if not known:
        return [] if nothing is None else [_reply(s, turn, ids, nothing)]
    view = _view(s, turn)
    return cart_turn.propose(view, ids, catalog, known, previous=_open_cart(s))


def _choice_answer(
    s: ConversationState,
    tap: choices.Tap,
    turn: CustomerTurn,
    ids: Iterator[str],
    catalog: Catalog,
) -> list[object]:
    """A tapped row: the item resolves (or is dropped) and the order moves on."""
    choice = s.pending_choice
    if choice is None or choice.choice_id != tap.choice_id:
        return [_reply(s, turn, ids, choices.STALE)]
    product = catalog.product(tap.product_id) if tap.product_id else None
    if tap.product_id is not None and product is None:
        return [_reply(s, turn, ids, choices.STALE)]
    made = ChoiceMade(
        choice_id=choice.choice_id,
        product_id=product.id if product else None,
        wamid=turn.last.wamid,
    )
    known = choice.known
    if product is not None:
        known = choices.add_line(known, product.id, choice.item.quantity)
    return [
        made,
        *_next_step(
            s, turn, ids, catalog, known=known, ambiguous=choice.later, nothing=choices.NONE_CHOSEN
        ),
    ]


def decide_preferences(state: ConversationState, fact: UserPreferencesReceived) -> list[object]:
    """Meta's marketing ``stop`` opts the customer out, ``resume`` back in; no reply is sent."""
    value = (fact.value or "").casefold()
    if value == "stop" and not state.opted_out:
        return [*_drop_cart(state, "opted_out"), OptedOut(source=OptSource.META)]
    if value == "resume" and state.opted_out:
        return [OptedIn(source=OptSource.META)]
    return []


def decide_resend(
    state: ConversationState, original: ReplyQueued, now: datetime, new_id: str
) -> ReplyQueued:
    """A new send of ``original``'s content under ``new_id`` (an operator's retry of a failure).

    Raises ``DomainError`` (409) when the customer has opted out, and
    ``OutsideServiceWindowError`` when a free-form message would leave the 24-hour window.
    """
    if state.opted_out:
        raise DomainError("the customer opted out: nothing may be sent until they write again")
    if not outbound_allowed(original.kind, state.last_customer_message_at, now):
        raise OutsideServiceWindowError(
            "more than 24 hours since the customer wrote: only a template may be sent"
        )
    return replace(original, outbound_id=new_id)
