"""``whatsapp_conversations``: one row per customer or dealer conversation.

Keeps the original Supabase columns (id, phone, conversation_type, context with recent
history, message_count, last_message_at, updated_at) plus stage, assignee and unread
count for the support inbox. Later issues feed it the conversation life-cycle events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from events.base import RecordedEvent
from events.whatsapp import MessageReceived
from projections.base import Current, RowKey, Upsert
from projections.messages import conversation_id, summary

TABLE = "whatsapp_conversations"
HISTORY = 10  # recent lines kept in ``context.history``


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

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The row of the event's conversation, for events of conversation streams."""
        if isinstance(event.payload, MessageReceived) and event.stream.startswith("conversation-"):
            return [conversation_key(event.stream)]
        return []

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """Count the message, bump unread, extend the history."""
        m = event.payload
        if not isinstance(m, MessageReceived) or not event.stream.startswith("conversation-"):
            return []
        key = conversation_key(event.stream)
        values = dict(current.get(key) or {})
        line = {
            "direction": "inbound",
            "type": m.kind,
            "text": summary(m),
            "at": m.sent_at.isoformat(),
        }
        values.update(
            id=dict(key.key)["id"],
            phone=m.phone or m.bsuid,
            conversation_type=values.get("conversation_type") or "customer",
            context=with_history(values.get("context"), line),
            message_count=int(values.get("message_count") or 0) + 1,
            last_message_at=max(filter(None, [values.get("last_message_at"), m.sent_at])),
            stage=values.get("stage") or "pending",
            assignee=values.get("assignee"),
            unread_count=int(values.get("unread_count") or 0) + 1,
            created_at=values.get("created_at") or m.sent_at,
            updated_at=event.recorded_at,
        )
        return [Upsert(key, values)]
