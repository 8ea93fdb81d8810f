"""``whatsapp_conversations``: one row per customer or dealer conversation.

Keeps the original Supabase columns (id, phone, conversation_type, context with recent
history, message_count, last_message_at, updated_at) plus stage, assignee and unread
count for the support inbox, the person id of the stream and the WhatsApp profile name,
why a person is needed (``attention``: escalated, taken over, a failed send) and a
lower-case ``search_text`` (name and recent messages) for text search. The phone of a
pseudonymous person is written by the runner (``adapters/readmodel/who.py``): the pure
projection knows the person id, not the number.

``unread_count`` counts the messages that arrived since the last agent action (take-over,
reply, release, resolve): what no agent has seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.conversation import ConversationState, Stage, evolve, folds
from core.outbox.decide import RECIPIENT_ERASED
from core.phones import is_person_id
from events.base import RecordedEvent, registered_events
from events.conversation import (
    AgentTookOver,
    ConversationEscalated,
    ConversationReleased,
    ConversationResolved,
    ConversationStarted,
    OptedOut,
    OutboundFailed,
    ReplyQueued,
    Sender,
)
from events.whatsapp import MessageReceived, WebhookReceived
from projections.base import Current, RowKey, Upsert
from projections.messages import conversation_id, summary

TABLE = "whatsapp_conversations"
# The checkout moves the stage too (checkout.started: "checkout", checkout.completed: back).
_MODULES = frozenset({"events.whatsapp", "events.conversation", "events.checkout"})
HISTORY = 10  # recent lines kept in ``context.history``
SEARCH_CHARS = 4000  # ``search_text`` is cut to this length


def conversation_key(stream: str) -> RowKey:
    """Conversations are keyed by the id derived from their stream."""
    return RowKey.of(TABLE, id=conversation_id(stream))


def with_history(context: Any, line: dict[str, Any]) -> dict[str, Any]:
    """``context`` with ``line`` appended to its bounded history."""
    ctx = dict(context or {})
    history = [*list(ctx.get("history") or []), line][-HISTORY:]
    ctx["history"] = history
    return ctx


class ConversationsProjection:
    """Builds ``whatsapp_conversations`` from conversation-stream events."""

    name: str = "whatsapp_conversations"
    tables: tuple[str, ...] = (TABLE,)
    # Inbound facts and conversation decisions; raw webhooks live in delivery streams.
    event_types = frozenset(
        t
        for t, cls in registered_events().items()
        if cls.__module__ in _MODULES and cls is not WebhookReceived
    )

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The row of the event's conversation, for events of conversation streams."""
        if event.stream.startswith("conversation-") and _relevant(event.payload):
            return [conversation_key(event.stream)]
        return []

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """Follow the stage through the core's own ``evolve``; count, history, unread."""
        keys = self.needs(event)
        if not keys:
            return []
        key = keys[0]
        values = dict(current.get(key) or {})
        values.setdefault("id", dict(key.key)["id"])
        party = event.stream.removeprefix("conversation-")
        if is_person_id(party):
            values["person_id"] = party  # the runner writes the phone beside it
        elif not values.get("phone"):  # a log written before pseudonyms names the phone
            values["phone"] = party
        values.setdefault("conversation_type", "customer")
        values.setdefault("message_count", 0)
        values.setdefault("unread_count", 0)
        values.setdefault("created_at", event.recorded_at)
        values["stage"] = _next_stage(event, values.get("stage"))
        values["updated_at"] = event.recorded_at
        _apply(values, event.payload)
        _attend(values, event.payload, event.recorded_at)
        return [Upsert(key, values)]


def _relevant(payload: object) -> bool:
    return type(payload).__module__ in _MODULES and not isinstance(payload, WebhookReceived)


def _next_stage(event: RecordedEvent, stage: Any) -> str:
    if not folds(event.payload):  # statuses, replies, ...: the stage stays (no state to build)
        return str(stage) if stage else Stage.PENDING.value
    key = event.stream.removeprefix("conversation-")
    state = ConversationState(key=key, stage=Stage(stage) if stage else Stage.PENDING)
    return evolve(state, event.payload).stage.value


def _apply(values: dict[str, Any], p: object) -> None:
    if isinstance(p, MessageReceived):
        line = {
            "direction": "inbound",
            "type": p.kind,
            "text": summary(p),
            "at": p.sent_at.isoformat(),
        }
        values["phone"] = p.phone or p.bsuid
        if p.profile_name:
            values["profile_name"] = p.profile_name
        values["context"] = with_history(values.get("context"), line)
        values["message_count"] = int(values["message_count"]) + 1
        values["unread_count"] = int(values["unread_count"]) + 1
        last = values.get("last_message_at")
        values["last_message_at"] = p.sent_at if last is None else max(last, p.sent_at)
    elif isinstance(p, ReplyQueued):
        line = {
            "direction": "outbound",
            "type": p.kind.value,
            "text": p.text,
            "sender": p.sender.value,
        }
        values["context"] = with_history(values.get("context"), line)
        values["message_count"] = int(values["message_count"]) + 1
    elif isinstance(p, ConversationStarted):
        values["conversation_type"] = p.kind.value
    elif isinstance(p, AgentTookOver):
        values["assignee"] = p.agent
    elif isinstance(p, ConversationReleased | ConversationResolved | OptedOut):
        values["assignee"] = None  # as the core's evolve does
    values["search_text"] = search_text(values)


def _attend(values: dict[str, Any], p: object, at: Any) -> None:
    """Why a person is needed now, and since when; agent actions mark messages seen."""
    agent_acted = isinstance(p, AgentTookOver | ConversationReleased | ConversationResolved) or (
        isinstance(p, ReplyQueued) and p.sender is Sender.AGENT
    )
    if agent_acted:
        values["unread_count"] = 0
    if isinstance(p, ConversationReleased | ConversationResolved | OptedOut):
        values["attention"] = values["attention_since"] = None
    elif isinstance(p, AgentTookOver):
        values["attention"] = "taken_over"
        values["attention_since"] = values.get("attention_since") or at
    elif isinstance(p, ConversationEscalated) and values.get("attention") != "taken_over":
        # The bot hands over a chat it cannot write to: that is a failed send, not a request.
        failed = p.reason == "send_failed" and values.get("attention") in (None, "send_failed")
        values["attention"] = "send_failed" if failed else "escalated"
        values["attention_since"] = values.get("attention_since") or at
    elif isinstance(p, OutboundFailed) and not values.get("attention") and not _erased(p):
        values["attention"] = "send_failed"
        values["attention_since"] = at


def _erased(p: OutboundFailed) -> bool:
    """A send to an erased person failed: nobody can help, so nobody is asked to."""
    return p.code is None and p.title == RECIPIENT_ERASED


def search_text(values: dict[str, Any]) -> str:
    """What text search looks in: the profile name and the recent messages, lower case."""
    history = (values.get("context") or {}).get("history") or []
    parts = [values.get("profile_name") or "", *(str(h.get("text") or "") for h in history)]
    return " ".join(p for p in parts if p).lower()[:SEARCH_CHARS]
