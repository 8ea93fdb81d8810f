"""What a conversation turn needs from its stream's past, folded once and kept.

The conversation reactor used to re-read a stream from its first event on every turn to
find three things besides the folded :class:`~core.conversation.ConversationState`: the
inbound facts no ``TurnProcessed`` covers yet, an assistant answer already recorded for
the same messages, and the last few lines of chat for the assistant. :class:`TurnMemory`
keeps exactly those, updated one stored event at a time by :func:`remember`, so a turn
costs the same on a conversation's first day and in its third year. ``what-if`` builds
the same memory with the same function, so it cannot drift from the reactor.

The memory stays small: answers are kept only while their messages are pending (once a
``TurnProcessed`` covers them no turn can ask for them again), and the chat history only
keeps its last :data:`HISTORY_TURNS` lines.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from core.conversation import ConversationState, evolve, folds
from core.ports import Turn
from events.base import RecordedEvent
from events.cart import CartEditUnderstood
from events.conversation import AssistantFailed, MessageUnderstood, ReplyQueued
from events.engine import ReplyGenerated, TurnProcessed
from events.whatsapp import MessageReceived, UserPreferencesReceived

HISTORY_TURNS = 8  # lines of chat the assistant is given
INBOUND = (MessageReceived, UserPreferencesReceived)  # the facts a turn answers
# Recorded assistant output (the cart edit is read from the same answer, recorded beside it)
ANSWERS = (MessageUnderstood, AssistantFailed, ReplyGenerated, CartEditUnderstood)
AnswerKey = tuple[str, tuple[str, ...]]  # (event type, the wamids it answered)
_EMPTY: Mapping[AnswerKey, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TurnMemory:
    """The folded state, the pending inbound facts, recorded answers and recent chat."""

    state: ConversationState
    pending: tuple[RecordedEvent, ...] = ()
    answers: Mapping[AnswerKey, Any] = field(default_factory=lambda: _EMPTY)
    history: tuple[Turn, ...] = ()

    def answer(self, kind: type[Any], wamids: tuple[str, ...]) -> Any:
        """The latest recorded ``kind`` answer for exactly these messages, or None."""
        return self.answers.get((kind.TYPE, wamids))


def remember(memory: TurnMemory, event: RecordedEvent) -> TurnMemory:
    """``memory`` after one more stored event (total: unknown events change nothing)."""
    p = event.payload
    if isinstance(p, INBOUND):
        return replace(
            memory,
            state=evolve(memory.state, p),
            pending=(*memory.pending, event),
            history=_said(memory.history, "customer", _text(p)),
        )
    if isinstance(p, TurnProcessed):
        return _covered(memory, frozenset(p.fact_ids))
    if isinstance(p, ANSWERS):
        key = (p.TYPE, tuple(p.wamids))
        memory = replace(memory, answers=MappingProxyType({**memory.answers, key: p}))
    if isinstance(p, ReplyQueued):
        role = "agent" if p.agent else "assistant"
        memory = replace(memory, history=_said(memory.history, role, p.text))
    if folds(p):
        return replace(memory, state=evolve(memory.state, p))
    return memory


def remember_all(memory: TurnMemory, events: Iterable[RecordedEvent]) -> TurnMemory:
    """:func:`remember` each event in order."""
    for event in events:
        memory = remember(memory, event)
    return memory


def _covered(memory: TurnMemory, done: frozenset[str]) -> TurnMemory:
    pending = tuple(e for e in memory.pending if str(e.event_id) not in done)
    wamids = {e.payload.wamid for e in pending if isinstance(e.payload, MessageReceived)}
    answers = {k: v for k, v in memory.answers.items() if set(k[1]) <= wamids and k[1]}
    return replace(memory, pending=pending, answers=MappingProxyType(answers))


def _text(p: MessageReceived | UserPreferencesReceived) -> str | None:
    return (p.text or None) if isinstance(p, MessageReceived) else None


def _said(history: tuple[Turn, ...], role: str, text: str | None) -> tuple[Turn, ...]:
    if text is None:
        return history
    return (*history, Turn(role=role, text=text))[-HISTORY_TURNS:]


def seen_by_turn(before: Sequence[RecordedEvent], fact_ids: Collection[str]) -> list[RecordedEvent]:
    """The events a turn over ``fact_ids`` decided from, out of all those stored before it.

    The reactor appends its decisions after inbound facts that arrived while it decided
    (they wait for the next turn), so those facts, neither covered by an earlier turn nor
    among ``fact_ids``, were not part of what it saw. On logs written before that rule no
    such fact exists and this returns ``before`` unchanged.
    """
    covered = {
        f for e in before if isinstance(e.payload, TurnProcessed) for f in e.payload.fact_ids
    }
    covered.update(fact_ids)
    return [e for e in before if not isinstance(e.payload, INBOUND) or str(e.event_id) in covered]
