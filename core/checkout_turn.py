"""The checkout's hooks into a customer's turn, kept out of :mod:`core.conversation`.

:func:`with_checkout` turns an accepted cart into the start of the checkout (when the
service runs with shop facts); :func:`checkout_answer` handles a turn while the checkout
is open (details, cancel, questions, a new order); :func:`business_answer` answers
questions about the shop and about the latest order, in any stage. Replies are built by
the caller's ``reply`` function, so ids and quoting stay the conversation's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core import business_questions, checkout, order_status
from core import checkout_texts as ctexts
from core import conversation_texts as texts
from core.business_facts import ShopFacts
from core.checkout import CheckoutMemory
from core.order_status import OrderView
from core.understanding import DeliveryHints, Intent, Topic, Understanding
from events.conversation import (
    CartCancelled,
    CartConfirmed,
    DeliveryReading,
    PricedLine,
    ReplyQueued,
)
from events.whatsapp import Location

Reply = Callable[[str], ReplyQueued]


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnInput:
    """What the checkout reads of one turn."""

    text: str
    button_id: str | None
    wamid: str
    location: Location | None
    now: datetime


def with_checkout(
    handled: list[object],
    cart: tuple[str, tuple[PricedLine, ...], Decimal],
    memory: CheckoutMemory,
    shop: ShopFacts | None,
    reply: Reply,
) -> list[object]:
    """``handled`` with the checkout started after its ``CartConfirmed`` (if any, with ``shop``).

    The confirmation text is replaced by the first checkout question: the order is not
    forwarded yet, so "lo inoltro subito" would not be true.
    """
    if shop is None or not any(isinstance(e, CartConfirmed) for e in handled):
        return handled
    cart_id, lines, total = cart
    started = checkout.start(cart_id, lines, total, shop)
    ask = ctexts.ask_start(memory.last_address)
    out: list[object] = []
    asked = False
    for e in handled:
        if isinstance(e, ReplyQueued) and e.text == texts.CONFIRMED:
            out.append(reply(ask))
            asked = True
            continue
        out.append(e)
        if isinstance(e, CartConfirmed):
            out.append(started)
    return out if asked else [*out, reply(ask)]


def checkout_answer(
    memory: CheckoutMemory,
    turn: TurnInput,
    understanding: Understanding | None,
    shop: ShopFacts,
    reply: Reply,
) -> tuple[list[object], bool]:
    """A turn during the checkout: ``(events, done)``; not done: the caller answers next."""
    current = memory.current
    if current is None:
        return [], False
    for reading, reason, text in (
        (texts.is_cancellation, "customer", texts.CANCELLED),
        (texts.is_modification, "modify", texts.MODIFY),
    ):
        if reading(turn.text, turn.button_id):
            return [CartCancelled(cart_id=current.cart_id, reason=reason), reply(text)], True
    hints = understanding.delivery if understanding is not None else None
    step = checkout.decide(
        current, turn.text, turn.location, now=turn.now, facts=shop, wamid=turn.wamid, hints=hints
    )
    if step is not None:
        return [*step.events, reply(step.text)], True
    asked = _asked(turn.text, understanding)
    if asked:
        answer = business_questions.answer(shop, asked, turn.text, current.items_total)
        return [reply(f"{answer} {ctexts.progress(current, [])}")], True
    if _status(turn.text, understanding):
        return [reply(f"{ctexts.NOT_SENT_YET} {ctexts.progress(current, [])}")], True
    if _ordering(understanding):
        return [CartCancelled(cart_id=current.cart_id, reason="replaced")], False
    return [reply(ctexts.progress(current, []))], True


_TOPICS = {
    Topic.OPENING_HOURS: business_questions.Topic.HOURS,
    Topic.DELIVERY_ZONES: business_questions.Topic.ZONES,
    Topic.DELIVERY_FEE: business_questions.Topic.FEE,
    Topic.PAYMENT_METHODS: business_questions.Topic.PAYMENT,
}


def _asked(text: str, understanding: Understanding | None) -> tuple[business_questions.Topic, ...]:
    """The business topics of the text, else the one the assistant named."""
    found = business_questions.topics(text)
    if found or understanding is None or understanding.topic not in _TOPICS:
        return found
    return (_TOPICS[understanding.topic],)


def _status(text: str, understanding: Understanding | None) -> bool:
    """A question about the customer's order, by our rules or by the assistant."""
    named = understanding is not None and understanding.topic is Topic.ORDER_STATUS
    return named or order_status.is_status_question(text)


def _ordering(understanding: Understanding | None) -> bool:
    """True when the turn orders products (a new cart, not a question)."""
    return (
        understanding is not None
        and understanding.intent is Intent.ORDER_REQUEST
        and bool(understanding.cart or understanding.unresolved)
    )


def business_answer(
    text: str,
    shop: ShopFacts | None,
    orders: Sequence[OrderView],
    understanding: Understanding | None,
    reply: Reply,
    *,
    cart_total: Decimal | None = None,
) -> list[object]:
    """Shop facts or order status answered offline ([]: not such a question).

    A status question with no order sent yet, and no shop fact asked, is answered too
    (the open cart waits for its confirmation, or there is nothing to track): it is never
    a case for a human. ``cart_total``: the open cart's total, None when no cart is open.
    """
    ordering = _ordering(understanding)
    if _status(text, understanding) and orders:
        return [reply(order_status.status_text(orders))]
    asked = _asked(text, understanding) if shop is not None else ()
    if shop is not None and asked and not ordering:
        return [reply(business_questions.answer(shop, asked, text, cart_total))]
    if _status(text, understanding) and not ordering:
        return [reply(ctexts.CART_NOT_CONFIRMED if cart_total is not None else ctexts.NO_ORDER)]
    return []


def delivery_reading(hints: DeliveryHints | None) -> DeliveryReading | None:
    """The recorded form of the assistant's delivery details (None when it read none)."""
    if hints is None or not (hints.address or hints.when or hints.payment):
        return None
    return DeliveryReading(address=hints.address, when=hints.when, payment=hints.payment)


def delivery_hints(reading: DeliveryReading | None) -> DeliveryHints | None:
    """The assistant's delivery details from a recorded understanding."""
    if reading is None:
        return None
    return DeliveryHints(address=reading.address, when=reading.when, payment=reading.payment)


def topic_of(value: str | None) -> Topic | None:
    """A recorded topic (unknown values, from a newer model, read as none)."""
    return next((t for t in Topic if t.value == value), None)
