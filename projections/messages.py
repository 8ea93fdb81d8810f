"""``whatsapp_messages``: one row per inbound or outbound WhatsApp message.

Statuses may arrive before the message they describe (Meta does not order deliveries),
so a status for an unknown wamid creates a placeholder row that the message later
completes; the status only ever moves forward (sent < delivered < read; failed wins).
Rows carry the person id of their conversation stream (the runner writes the phone beside
it, ``adapters/readmodel/who.py``), the profile name of inbound messages, and who wrote an
outbound one (``sender``: bot or agent, ``agent``: which agent).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from core.phones import is_person_id
from events.base import RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.outbox import OutboundReconciled
from events.whatsapp import MessageReceived, StatusReceived
from projections.base import Current, RowKey, Upsert

TABLE = "whatsapp_messages"
STATUS_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}
OUTBOX = (ReplyQueued, OutboundSent, OutboundFailed, OutboundReconciled)


@lru_cache(maxsize=65536)  # pure; every event of a conversation asks (a uuid5 each)
def conversation_id(stream: str) -> str:
    """The stable conversation id of a conversation stream."""
    return str(uuid5(NAMESPACE_URL, f"dloop:{stream}"))


def person_of(stream: str) -> str | None:
    """The person id a conversation stream is named by (None for other streams)."""
    key = stream.removeprefix("conversation-")
    return key if key != stream and is_person_id(key) else None


def message_id_for_wamid(wamid: str) -> str:
    """The row id of a message known only by Meta's id (inbound messages)."""
    return str(uuid5(NAMESPACE_URL, f"wamid:{wamid}"))


def message_key(message_id: str) -> RowKey:
    """Rows are keyed by our id: the wamid's uuid for inbound, the outbound id for ours.

    Statuses of our own messages carry the outbound id back in
    ``biz_opaque_callback_data``, so they find the row even before ``OutboundSent``.
    """
    return RowKey.of(TABLE, id=message_id)


def status_row_id(status: StatusReceived) -> str:
    """Which row a status describes."""
    return status.biz_opaque_callback_data or message_id_for_wamid(status.wamid)


def summary(message: MessageReceived) -> str:
    """A short text for the content column: the text, a caption, or the kind."""
    if message.text:
        return message.text
    if message.media is not None and message.media.caption:
        return message.media.caption
    if message.interactive is not None:
        return message.interactive.title or message.interactive.id or "[interactive]"
    if message.button is not None:
        return message.button.text or message.button.payload or "[button]"
    if message.reaction is not None:
        return message.reaction.emoji or "[reaction removed]"
    return f"[{message.kind}]"


class MessagesProjection:
    """Builds ``whatsapp_messages`` from inbound messages and delivery statuses."""

    name: str = "whatsapp_messages"
    tables: tuple[str, ...] = (TABLE,)
    event_types = frozenset(c.TYPE for c in (MessageReceived, StatusReceived, *OUTBOX))

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The message row named by the event's wamid."""
        payload = event.payload
        if isinstance(payload, MessageReceived):
            return [message_key(message_id_for_wamid(payload.wamid))]
        if isinstance(payload, StatusReceived):
            return [message_key(status_row_id(payload))]
        if isinstance(payload, OUTBOX):
            return [message_key(payload.outbound_id)]
        return []

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """Insert or complete the message row; move its status forward."""
        payload = event.payload
        if isinstance(payload, MessageReceived):
            key = message_key(message_id_for_wamid(payload.wamid))
            return [self._inbound(event, payload, key, current.get(key))]
        if isinstance(payload, StatusReceived):
            key = message_key(status_row_id(payload))
            return [self._status(event, payload, key, current.get(key))]
        if isinstance(payload, OUTBOX):
            key = message_key(payload.outbound_id)
            return [self._outbound(event, payload, key, current.get(key))]
        return []

    def _outbound(self, event: RecordedEvent, p: object, key: RowKey, row: Any) -> Upsert:
        values = dict(row or {})
        values.setdefault("id", dict(key.key)["id"])
        values.setdefault("conversation_id", conversation_id(event.stream))
        values.setdefault("direction", "outbound")
        values.setdefault("created_at", event.recorded_at)
        values["updated_at"] = event.recorded_at
        values["person_id"] = values.get("person_id") or person_of(event.stream)
        if isinstance(p, ReplyQueued):
            if not is_person_id(p.to):  # the number itself (logs before pseudonyms)
                values["phone"] = p.to
            values.update(content=p.text, type=p.kind.value, sender=p.sender.value, agent=p.agent)
            values.setdefault("status", "pending")
        elif isinstance(p, OutboundSent | OutboundReconciled):
            values["meta_message_id"] = p.wamid
            values["status"] = _forward(values.get("status"), "sent")
        elif isinstance(p, OutboundFailed):
            values["status"] = "failed"
            response = dict(values.get("meta_response") or {})
            response["error"] = {
                "code": p.code,
                "title": p.title,
                "outcome_unknown": p.outcome_unknown,
            }
            values["meta_response"] = response
        return Upsert(key, values)

    def _inbound(self, event: RecordedEvent, m: MessageReceived, key: RowKey, row: Any) -> Upsert:
        values = dict(row or {})
        values.update(
            id=dict(key.key)["id"],
            conversation_id=conversation_id(event.stream),
            person_id=person_of(event.stream),
            phone=m.phone or m.bsuid,
            profile_name=m.profile_name,
            direction="inbound",
            content=summary(m),
            type=m.kind,
            status=values.get("status") or "received",
            meta_message_id=m.wamid,
            created_at=m.sent_at,
            updated_at=event.recorded_at,
        )
        return Upsert(key, values)

    def _status(self, event: RecordedEvent, s: StatusReceived, key: RowKey, row: Any) -> Upsert:
        values = dict(row or {})
        new = _forward(values.get("status"), s.status)
        response = dict(values.get("meta_response") or {})
        response[s.status] = {
            "timestamp": s.timestamp.isoformat(),
            "errors": [{"code": e.code, "title": e.title} for e in s.errors],
        }
        values.update(
            id=dict(key.key)["id"],
            conversation_id=values.get("conversation_id") or conversation_id(event.stream),
            person_id=values.get("person_id") or person_of(event.stream),
            phone=values.get("phone") or s.phone or s.bsuid,
            direction=values.get("direction") or "outbound",
            status=new,
            meta_message_id=s.wamid,
            meta_response=response,
            created_at=values.get("created_at") or s.timestamp,
            updated_at=event.recorded_at,
        )
        return Upsert(key, values)


def _forward(old: str | None, new: str) -> str:
    """Statuses only move forward (a late "sent" never hides "read")."""
    current = old or "pending"
    return new if STATUS_RANK.get(new, 0) >= STATUS_RANK.get(current, 0) else current
