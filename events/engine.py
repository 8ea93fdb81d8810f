"""Events of the reactor runtime itself: parked events, their re-driving, review retries."""

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


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItemRetried:
    """An operator retried a review-queue item from the dashboard or the API.

    For a parked event (``kind='parked'``) it follows the re-drive's
    ``ParkedEventReprocessed`` in ``parked-<reactor>``; for a failed or unknown-outcome
    send (``kind='outbound_failed'``) it is appended with the new ``ReplyQueued``
    (``retry_outbound_id``) in the conversation stream, linking it to the original send.
    """

    TYPE: ClassVar[str] = "engine.review_item_retried"
    VERSION: ClassVar[int] = 1

    item_id: str  # the review-queue row
    kind: str  # parked | outbound_failed
    agent: str  # who asked (the token's label)
    succeeded: bool
    position: int | None = None  # the parked event's position
    original_outbound_id: str | None = None
    retry_outbound_id: str | None = None
    error: str | None = None


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class TurnProcessed:
    """The conversation reactor decided on these inbound facts (appended with its decisions).

    It makes the reactor idempotent: facts listed here are never handled again, whatever
    the decision was (a silent one included).
    """

    TYPE: ClassVar[str] = "engine.turn_processed"
    VERSION: ClassVar[int] = 1

    fact_ids: tuple[str, ...]  # event ids of the inbound facts of the turn
    decisions: int  # how many events the decision produced


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyGenerated:
    """Text the assistant wrote for a turn, recorded before it is used (replay reuses it)."""

    TYPE: ClassVar[str] = "engine.reply_generated"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"text"})

    wamids: tuple[str, ...]
    text: str
    engine: str
    model: str | None
    prompt_version: str
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False
