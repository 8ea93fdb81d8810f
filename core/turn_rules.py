"""The rules of a customer's turn: what the bot answers.

:func:`decide_turn` decides a turn from the folded
:class:`~core.conversation.ConversationState` (opt-out keywords, people owning the
conversation, the rate limit, carts, choices, the checkout, the intent's answer);
:func:`needs_understanding` says when the assistant's reading may be used at all;
:func:`decide_preferences` answers Meta's marketing stop / resume; :func:`decide_resend`
is an operator's retry of a failed send. The assistant's reading is recorded and read
back by :mod:`core.recorded_reading`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime

from core import alerts, cart_turn, checkout_turn, choices, shown, typed_choice
from core import conversation_texts as texts
from core.catalog import Catalog
from core.conversation import (
    ConversationState,
    CustomerTurn,
    OutsideServiceWindowError,
    Stage,
    TurnContext,
    fold,
    recipient,
)
from core.followup import follow_up
from core.machines import DomainError
from core.nlu import replies
from core.optout import opt_out_keyword
from core.rate_limit import check
from core.understanding import Intent, Understanding
from core.window import outbound_allowed, within_service_window
from events.conversation import (
    CartCancelled,
    ChoiceMade,
    ChoiceRequested,
    ConversationEscalated,
    ConversationStarted,
    OptedIn,
    OptedOut,
    OptSource,
    PartyKind,
    RateLimited,
    ReplyButton,
    ReplyKind,
    ReplyQueued,
    ReplyRow,
    UnderstoodLine,
    UnresolvedLine,
)
from events.whatsapp import UserPreferencesReceived


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
        turn.text, context.shop, context.orders, understanding, reply,
        cart_total=s.pending_cart.total if s.pending_cart is not None else None,
    )  # fmt: skip
    if facts:
        return before + facts
    if s.stage is Stage.PENDING and s.pending_choice is None:  # ordering what was just shown
        seen = shown.usable(s.shown, turn.wamids, turn.at)
        lines = follow_up(turn.text, understanding, seen, context.catalog)
        if lines:
            problem = cart_turn.order_problem(_view(s, turn), ids)
            return before + (
                problem
                or _next_step(
                    s, turn, ids, context.catalog, known=lines, ambiguous=(), nothing=None
                )
            )
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
    if picked == choices.NONE:
        return choices.Tap(choice_id=choice.choice_id, product_id=None)
    quantity = typed_choice.typed_quantity(turn.last.text)
    return choices.Tap(choice_id=choice.choice_id, product_id=picked, quantity=quantity)


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
        known = choices.add_line(known, product.id, tap.quantity or choice.item.quantity)
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
