"""Events of the reactor runtime itself: parked events and their re-driving."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReactorEventParked:
    """A reactor gave up on an event after bounded retries; it waits for ``reprocess``."""

    TYPE: ClassVar[str] = "engine.event_parked"
    VERSION: ClassVar[int] = 1

    reactor: str  # which reactor failed
    stream: str  # the stream of the parked event
    position: int  # its global position
    event_type: str
    error: str  # the last error, shortened


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ParkedEventReprocessed:
    """An operator re-drove a parked event; ``succeeded`` says how it went."""

    TYPE: ClassVar[str] = "engine.parked_event_reprocessed"
    VERSION: ClassVar[int] = 1

    reactor: str
    position: int
    succeeded: bool
    error: str | None = None
