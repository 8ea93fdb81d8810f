"""Parked events: what a reactor records when a handler keeps failing, and what is pending.

A turn whose handler fails past its retries is not dropped: each of its events becomes a
``ReactorEventParked`` in the ``parked-<reactor>`` stream (with a deterministic id, so
parking the same event twice is absorbed), visible on the review queue until a re-drive
succeeds (``ParkedEventReprocessed``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from events.base import Metadata, NewEvent, RecordedEvent
from events.engine import ParkedEventReprocessed, ReactorEventParked

PARK_NAMESPACE = uuid.UUID("6f1c2a8e-51b4-4c36-9d0e-2f6b1d3c9a71")


def parked_events(
    reactor: str, stream: str, turn: Sequence[RecordedEvent], exc: Exception
) -> list[NewEvent]:
    """One ``ReactorEventParked`` per event of ``turn``, caused by it."""
    return [
        NewEvent(
            event_id=uuid.uuid5(PARK_NAMESPACE, f"{reactor}:{e.event_id}"),
            payload=ReactorEventParked(
                reactor=reactor,
                stream=stream,
                position=e.position,
                event_type=e.type,
                error=f"{type(exc).__name__}: {exc}"[:500],
            ),
            metadata=Metadata(causation_id=str(e.event_id), source=f"reactor:{reactor}"),
        )
        for e in turn
    ]


def pending_parked(
    history: Sequence[RecordedEvent], position: int | None
) -> list[ReactorEventParked]:
    """The parked events not re-driven yet (or the one at ``position``), by position."""
    found: dict[int, ReactorEventParked] = {}
    for e in history:
        p = e.payload
        if isinstance(p, ReactorEventParked) and position in (None, p.position):
            found[p.position] = p
        elif isinstance(p, ParkedEventReprocessed) and p.succeeded and position is None:
            found.pop(p.position, None)
    return [found[k] for k in sorted(found)]
