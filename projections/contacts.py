"""``rider_contacts``: phones of dealers, riders and support agents (``contacts`` stream)."""

from __future__ import annotations

from collections.abc import Sequence

from events.base import RecordedEvent
from events.market import ContactUpserted
from projections.base import Current, RowKey, Upsert

TABLE = "rider_contacts"


class ContactsProjection:
    """One row per phone; the latest ``ContactUpserted`` wins."""

    name: str = "rider_contacts"
    tables: tuple[str, ...] = (TABLE,)
    event_types = frozenset({ContactUpserted.TYPE})

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The contact's row."""
        if isinstance(event.payload, ContactUpserted):
            return [RowKey.of(TABLE, phone=event.payload.phone)]
        return []

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """The full row for the contact."""
        p = event.payload
        if not isinstance(p, ContactUpserted):
            return []
        values = {
            "phone": p.phone,
            "name": p.name,
            "contact_type": p.contact_type,
            "dealer_id": p.dealer_id,
            "updated_at": event.recorded_at,
        }
        return [Upsert(RowKey.of(TABLE, phone=p.phone), values)]
