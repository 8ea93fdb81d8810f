"""The conversation turn as a decider: every pending inbound fact of a stream, one turn.

State: the stream's :class:`~core.turn_memory.TurnMemory` (folded state, pending facts,
recorded answers, recent chat). Inputs: :class:`TurnInputs` (the catalogue, business
facts and the directory's party kind, as the shell has them now). ``decide`` walks the
turn and stops at the first thing it cannot know by itself, asking for it:

1. :class:`ReadMedia` for a turn with anything but plain text (readings of voice notes
   and photos, reactions' targets); answered by :class:`MediaSeen` plus the readings;
2. :class:`Understand` when the rules may use the assistant's reading and none is
   recorded for these messages; answered by ``MessageUnderstood`` (with the cart edit it
   implies) or ``AssistantFailed``;
3. :class:`LookUpOrders` for an order-status question; answered by :class:`OrdersFound`;
4. :class:`WriteReply` for general chat when assistant-written replies are on; answered
   by ``ReplyGenerated`` or ``AssistantFailed``.

Answers recorded earlier for the same messages are reused, never asked for again. Once
nothing is missing it decides the turn (:func:`core.turn_rules.decide_turn`) and closes
it with ``TurnProcessed``. :class:`MediaSeen` and :class:`OrdersFound` are lookups, not
facts: the shell does not store them (the readings and the orders' streams are stored).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import Any

from core import media
from core.cart_reading import with_edit
from core.conversation import ConversationState, CustomerTurn, TurnContext, fold
from core.decider import Decider, Decision
from core.order_status import OrderView, is_status_question
from core.ports import Turn
from core.recorded_reading import understanding_of
from core.turn_memory import TurnMemory, remember
from core.turn_rules import decide_preferences, decide_turn, needs_understanding
from core.understanding import Intent, Topic, Understanding
from events.base import RecordedEvent
from events.cart import CartEditUnderstood
from events.conversation import AssistantFailed, MessageUnderstood
from events.engine import ReplyGenerated, TurnProcessed
from events.whatsapp import MessageReceived, UserPreferencesReceived

_NO_FACTS: Mapping[str, str] = MappingProxyType({})


class Missing(Enum):
    """An answer not recorded yet: the decider asks for it."""

    ASK = "ask"


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnInputs:
    """What the shell hands a turn besides the stream: current catalogue and settings."""

    context: TurnContext  # catalogue, shop facts and the directory's party kind
    generate_chat_replies: bool = False
    facts: Mapping[str, str] = field(default_factory=lambda: _NO_FACTS)  # for the assistant


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadMedia:
    """Read the turn's media (recorded readings first) and rewrite the turn."""

    state: ConversationState
    facts: tuple[MessageReceived, ...]
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Understand:
    """Ask the assistant to read ``text`` (the customer's words of ``wamids``)."""

    text: str
    wamids: tuple[str, ...]
    history: tuple[Turn, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LookUpOrders:
    """Find the customer's latest order's relays (an order-status question)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteReply:
    """Ask the assistant to write a chat reply to ``text``."""

    intent: Intent
    text: str
    wamids: tuple[str, ...]
    history: tuple[Turn, ...]


TurnRequest = ReadMedia | Understand | LookUpOrders | WriteReply


@dataclass(frozen=True, slots=True)
class MediaSeen:
    """The turn as the rules read it once its media were read (a lookup: not stored)."""

    turn: media.MediaTurn


@dataclass(frozen=True, slots=True)
class OrdersFound:
    """The customer's latest orders (a lookup: not stored)."""

    orders: tuple[OrderView, ...]


LOOKUPS = (MediaSeen, OrdersFound)  # outcomes the shell keeps out of the log
TurnEvent = Any  # the stored decisions are the conversation's event union (core.conversation)


def start_memory(stream: str) -> TurnMemory:
    """A new conversation's memory (its kind is set from the directory until it starts)."""
    return TurnMemory(state=ConversationState(key=stream.removeprefix("conversation-")))


def remember_event(memory: TurnMemory, event: RecordedEvent) -> TurnMemory:
    """The memory's fold, as the stream cache applies it."""
    return remember(memory, event)


def decide_conversation(
    memory: TurnMemory,
    inputs: TurnInputs,
    recorded: tuple[TurnEvent, ...],
    now: datetime,
    ids: Iterator[str],
) -> Decision[TurnEvent, TurnRequest]:
    """The turn's decisions and marker, or the first request it still needs answered."""
    pending = memory.pending
    if not pending:
        return Decision()
    kind = inputs.context.kind
    state = memory.state if memory.state.started else replace(memory.state, kind=kind)
    decisions: list[Any] = []
    for fact in (e.payload for e in pending if isinstance(e.payload, UserPreferencesReceived)):
        decisions += decide_preferences(fold(state, decisions), fact)
    # WhatsApp catalog carts (kind "order") are read by the order reactor.
    messages = tuple(
        e.payload
        for e in pending
        if isinstance(e.payload, MessageReceived) and e.payload.kind != "order"
    )
    seen = _seen(state, messages, recorded, now)
    if not isinstance(seen, media.MediaTurn):
        return Decision(requests=(seen,))
    if seen.messages:
        turn = CustomerTurn(messages=seen.messages)
        answered = _turn(memory, state, turn, (inputs, recorded), now)
        if not isinstance(answered, tuple):
            return Decision(requests=(answered,))
        understanding, context = answered
        context = replace(context, media_reply=None if turn.text else seen.alone)
        decided = decide_turn(
            fold(state, decisions), turn, understanding, now, ids, context=context
        )
        decisions += media.lead_with(decided, seen.lead)
    decisions += seen.notes
    marker = TurnProcessed(
        fact_ids=tuple(str(e.event_id) for e in pending), decisions=len(decisions)
    )
    return Decision(events=(*decisions, marker))


def _seen(
    state: ConversationState,
    messages: tuple[MessageReceived, ...],
    recorded: tuple[TurnEvent, ...],
    now: datetime,
) -> media.MediaTurn | ReadMedia:
    if not messages:
        return media.MediaTurn(messages=(), notes=(), lead=None)
    if any(m.kind != "text" for m in messages):  # rare: read the stream's recorded readings
        found = next((r for r in recorded if isinstance(r, MediaSeen)), None)
        return found.turn if found is not None else ReadMedia(state=state, facts=messages, now=now)
    return media.prepare(messages, {}, media.Surroundings(state=state, history=()))


def _turn(
    memory: TurnMemory,
    state: ConversationState,
    turn: CustomerTurn,
    given: tuple[TurnInputs, tuple[TurnEvent, ...]],
    now: datetime,
) -> tuple[Understanding | None, TurnContext] | TurnRequest:
    """The understanding and the context the rules read, or what is still missing."""
    inputs, recorded = given
    understanding: Understanding | None = None
    if turn.text and needs_understanding(state, turn, now):
        known = _understanding(memory, turn, recorded)
        if known is Missing.ASK:
            return Understand(text=turn.text, wamids=turn.wamids, history=memory.history)
        understanding = known
    context = inputs.context
    named = understanding is not None and understanding.topic is Topic.ORDER_STATUS
    if named or is_status_question(turn.text):
        found = next((r for r in recorded if isinstance(r, OrdersFound)), None)
        if found is None:
            return LookUpOrders()
        context = replace(context, orders=found.orders)
    if understanding is None or understanding.intent is not Intent.GENERAL_CHAT:
        return understanding, context
    reply = _reply(memory, turn, inputs, recorded)
    if reply is Missing.ASK:
        return WriteReply(
            intent=understanding.intent, text=turn.text, wamids=turn.wamids, history=memory.history
        )
    return understanding, context if reply is None else replace(context, reply_text=reply)


def _understanding(
    memory: TurnMemory, turn: CustomerTurn, recorded: tuple[TurnEvent, ...]
) -> Understanding | Missing | None:
    """The recorded reading (None: the assistant failed), or ``Missing.ASK``."""
    understood = memory.answer(MessageUnderstood, turn.wamids) or _answer(
        recorded, MessageUnderstood, turn.wamids
    )
    if understood is not None:
        edit = memory.answer(CartEditUnderstood, turn.wamids) or _answer(
            recorded, CartEditUnderstood, turn.wamids
        )
        return with_edit(understanding_of(understood), edit)
    if memory.answer(AssistantFailed, turn.wamids) is not None:
        return None
    failed = _answer(recorded, AssistantFailed, turn.wamids, operation="understand")
    return None if failed is not None else Missing.ASK


def _reply(
    memory: TurnMemory, turn: CustomerTurn, inputs: TurnInputs, recorded: tuple[TurnEvent, ...]
) -> str | Missing | None:
    """A written reply's text, None (the rules answer), or ``Missing.ASK``."""
    if not inputs.generate_chat_replies:
        return None
    written = memory.answer(ReplyGenerated, turn.wamids) or _answer(
        recorded, ReplyGenerated, turn.wamids
    )
    if written is not None:
        return str(written.text)
    if _answer(recorded, AssistantFailed, turn.wamids, operation="reply") is not None:
        return None
    return Missing.ASK


def _answer(
    recorded: tuple[TurnEvent, ...],
    kind: type[Any],
    wamids: tuple[str, ...],
    *,
    operation: str | None = None,
) -> Any:
    for r in recorded:
        mine = isinstance(r, kind) and tuple(r.wamids) == wamids
        if mine and (operation is None or r.operation == operation):
            return r
    return None


CONVERSATION: Decider[TurnMemory, TurnInputs, TurnEvent, TurnRequest] = Decider(
    initial=start_memory, evolve=remember_event, decide=decide_conversation
)
