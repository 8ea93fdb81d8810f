"""Agent actions on a conversation, as a decider: take over, release, resolve, reply.

The dashboard's requests are decided on the conversation stream's folded
:class:`~core.conversation.ConversationState` (the same ``evolve`` the turn uses). A move
the life cycle does not allow raises ``DomainError`` (409 at the web layer); a reply
outside the 24-hour window raises :class:`~core.conversation.OutsideServiceWindowError`.
Agent actions never ask for outside work: their decisions are settled at once, and the
runner (:mod:`adapters.engine.runner`) appends them at the version they were decided on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Never

from core.conversation import (
    ConversationState,
    OutsideServiceWindowError,
    Stage,
    evolve,
    next_stage,
    recipient,
)
from core.decider import Decider, Decision
from core.machines import DomainError
from core.window import outbound_allowed
from events.conversation import (
    AgentTookOver,
    CartCancelled,
    ConversationReleased,
    ConversationResolved,
    ReplyKind,
    ReplyQueued,
    Sender,
)

AgentEvent = (
    AgentTookOver | ConversationReleased | ConversationResolved | CartCancelled | ReplyQueued
)


class AgentActionKind(StrEnum):
    """What a support agent can do from the dashboard."""

    TAKE_OVER = "take_over"
    RELEASE = "release"
    RESOLVE = "resolve"
    REPLY = "reply"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentAction:
    """A dashboard request by ``agent``; ``text`` for replies."""

    kind: AgentActionKind
    agent: str
    text: str | None = None


def decide_agent_action(
    state: ConversationState, action: AgentAction, now: datetime, ids: Iterator[str]
) -> list[AgentEvent]:
    """The events of an agent's request; raises ``DomainError`` (409) when it cannot be done."""
    agent = action.agent
    if action.kind is AgentActionKind.TAKE_OVER:
        next_stage(state.stage, "take_over")
        mine = state.stage is Stage.OPEN and state.assignee == agent
        return [] if mine else [AgentTookOver(agent=agent)]
    if action.kind is AgentActionKind.RELEASE:
        next_stage(state.stage, "release")
        return [*_drop_cart(state), ConversationReleased(agent=agent)]
    if action.kind is AgentActionKind.RESOLVE:
        next_stage(state.stage, "resolve")
        return [ConversationResolved(agent=agent)]
    return _agent_reply(state, action, now, ids)


def _drop_cart(s: ConversationState) -> list[AgentEvent]:
    if s.pending_cart is None:
        return []
    return [CartCancelled(cart_id=s.pending_cart.cart_id, reason="released")]


def _agent_reply(
    state: ConversationState, action: AgentAction, now: datetime, ids: Iterator[str]
) -> list[AgentEvent]:
    text = (action.text or "").strip()
    if not text:
        raise DomainError("an agent reply needs some text")
    out: list[AgentEvent] = []
    if state.stage is not Stage.OPEN or state.assignee is None:
        next_stage(state.stage, "take_over")
        out.append(AgentTookOver(agent=action.agent))
    if not outbound_allowed(ReplyKind.TEXT, state.last_customer_message_at, now):
        raise OutsideServiceWindowError(
            "more than 24 hours since the customer wrote: use a template"
        )
    reply = ReplyQueued(
        outbound_id=next(ids),
        to=recipient(state.key),
        kind=ReplyKind.TEXT,
        text=text,
        sender=Sender.AGENT,
        agent=action.agent,
    )
    return [*out, reply]


def _decide(
    state: ConversationState,
    action: AgentAction,
    _recorded: tuple[AgentEvent, ...],
    now: datetime,
    ids: Iterator[str],
) -> Decision[AgentEvent, Never]:
    return Decision(events=tuple(decide_agent_action(state, action, now, ids)))


def _initial(stream: str) -> ConversationState:
    return ConversationState(key=stream.removeprefix("conversation-"))


AGENT_ACTIONS: Decider[ConversationState, AgentAction, AgentEvent, Never] = Decider(
    initial=_initial, evolve=evolve, decide=_decide
)
