"""``review_queue``: what people must look at, one row per problem event.

Items come from parked reactor events (``engine.event_parked``), assistant failures,
failed or unknown-outcome sends, escalations and operator alerts (an expired access
token, an LLM model about to shut down...). Ids are derived from the events, so a
rebuild gives the same rows: a parked item is keyed by reactor and position, which lets
``engine.parked_event_reprocessed`` mark it ``retried`` when the re-drive succeeded; an
operator's ``engine.review_item_retried`` names its item and marks it ``retried`` too.
Dismissals are operator actions kept in ``review_dismissals`` (not here), so a rebuild
never loses them; the read queries combine both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from events.base import RecordedEvent
from events.conversation import AssistantFailed, ConversationEscalated, OutboundFailed
from events.engine import ParkedEventReprocessed, ReactorEventParked, ReviewItemRetried
from events.models import ModelAlerted
from events.outbox import OperatorAlerted
from projections.base import Current, RowKey, Upsert
from projections.messages import conversation_id

TABLE = "review_queue"
ITEMS = (
    ReactorEventParked,
    AssistantFailed,
    OutboundFailed,
    ConversationEscalated,
    OperatorAlerted,
    ModelAlerted,
)


def review_id(event: RecordedEvent) -> str:
    """The item id of a problem event (stable across rebuilds)."""
    p = event.payload
    if isinstance(p, ReactorEventParked | ParkedEventReprocessed):
        return parked_id(p.reactor, p.position)
    if isinstance(p, ReviewItemRetried):
        return p.item_id
    return str(uuid5(NAMESPACE_URL, f"review:{event.event_id}"))


def parked_id(reactor: str, position: int) -> str:
    """The item id of ``reactor``'s parked event at ``position``."""
    return str(uuid5(NAMESPACE_URL, f"review:parked:{reactor}:{position}"))


class ReviewQueueProjection:
    """Builds ``review_queue`` from problem events."""

    name: str = "review_queue"
    tables: tuple[str, ...] = (TABLE,)
    event_types = frozenset(c.TYPE for c in (*ITEMS, ParkedEventReprocessed, ReviewItemRetried))

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The item row of a problem event or of a parked event's re-drive."""
        if isinstance(event.payload, (*ITEMS, ParkedEventReprocessed, ReviewItemRetried)):
            return [RowKey.of(TABLE, id=review_id(event))]
        return []

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """Open an item for a problem; mark it retried after a good re-drive or retry."""
        keys = self.needs(event)
        if not keys:
            return []
        key = keys[0]
        p = event.payload
        if isinstance(p, ParkedEventReprocessed | ReviewItemRetried):
            row = current.get(key)
            if row is None or not p.succeeded:
                return []
            return [Upsert(key, {**row, "status": "retried", "updated_at": event.recorded_at})]
        return [Upsert(key, _item(event, dict(key.key)["id"], current.get(key)))]


def _item(event: RecordedEvent, item_id: str, row: Any) -> dict[str, Any]:
    p = event.payload
    subject = p.stream if isinstance(p, ReactorEventParked) else event.stream
    return {
        "id": item_id,
        "kind": _KINDS[type(p)],
        "conversation_id": (
            conversation_id(subject) if subject.startswith("conversation-") else None
        ),
        "stream": subject,
        "position": p.position if isinstance(p, ReactorEventParked) else event.position,
        "summary": summary(p),
        "status": (row or {}).get("status") or "open",
        "created_at": (row or {}).get("created_at") or event.recorded_at,
        "updated_at": event.recorded_at,
    }


_KINDS: dict[type[Any], str] = {
    ReactorEventParked: "parked",
    AssistantFailed: "assistant_failed",
    OutboundFailed: "outbound_failed",
    ConversationEscalated: "escalated",
    OperatorAlerted: "operator_alert",
    ModelAlerted: "operator_alert",
}


def summary(p: object) -> str:
    """One line saying what went wrong, for the queue's list view."""
    if isinstance(p, ReactorEventParked):
        return f"{p.reactor} gave up on {p.event_type}: {p.error}"[:500]
    if isinstance(p, AssistantFailed):
        return f"assistant {p.operation} failed: {p.error}"[:500]
    if isinstance(p, OutboundFailed):
        what = "outcome unknown, not resent" if p.outcome_unknown else "send failed"
        code = f" ({p.code})" if p.code is not None else ""
        return f"{what}{code}: {p.title or 'no details'}"[:500]
    if isinstance(p, ConversationEscalated):
        return f"escalated: {p.reason}"
    if isinstance(p, OperatorAlerted):
        return f"operator alert: WhatsApp error {p.code}: {p.title}"[:500]
    if isinstance(p, ModelAlerted):
        return _model_summary(p)
    return type(p).__name__


def _model_summary(p: ModelAlerted) -> str:
    if p.reason == "shutdown_soon":
        why = f"shuts down on {p.shutdown_date} ({p.days_left} days left)"
    elif p.reason == "retired":
        why = "is retired (past its shutdown date or answering model_not_found)"
    else:
        why = "is unknown to the server"
    return f"operator alert: LLM model {p.model} {why}; change the model setting"[:500]
