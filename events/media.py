"""Media, locations and reactions: what was read from them, recorded before anything uses it.

A voice note's transcript and a photo's shopping list come from outside calls (the Graph
API for the bytes, a model for the reading), so their outcome is an event appended ahead
of the decisions that use it, in the same append (:class:`MediaRead` or
:class:`MediaFailed`); replay reads it back and never downloads or transcribes again.
The bytes themselves are personal data and are never recorded: only the media id, the
SHA-256 of the bytes, their type and size, the model and the latency. Media ids,
transcripts, list lines, errors (which may quote the id) and positions are personal
fields, sealed with the customer's key (ADR 0007).
:class:`MediaHandled` says how the conversation rules treated each media message, a
location or a reaction (the metrics count it); :class:`DeliveryLocationShared` holds a
shared position and the area check's verdict, for the checkout's delivery address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events.base import event


@dataclass(frozen=True, slots=True, kw_only=True)
class ListLine:
    """One line of a photographed shopping list: product words and how many."""

    words: str
    quantity: int


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MediaRead:
    """A model read a downloaded media item: a transcript (audio) or a shopping list (image)."""

    TYPE: ClassVar[str] = "media.read"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"media_id", "text", "lines"})

    wamid: str  # the message the media came with
    media_id: str
    kind: str  # audio | image
    operation: str  # transcription | vision
    sha256: str  # of the downloaded bytes (the bytes are never stored)
    mime_type: str
    size: int  # bytes
    model: str
    latency_ms: int  # the model call only
    text: str  # the transcript, or the list's lines as text ("" for a photo that is no list)
    is_list: bool | None = None  # vision only: the photo shows a shopping list
    lines: tuple[ListLine, ...] = ()  # vision only


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFailed:
    """A media item could not be read: refused (type, size, empty) or a call failed."""

    TYPE: ClassVar[str] = "media.failed"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"media_id", "error"})

    wamid: str
    media_id: str | None
    kind: str
    stage: str  # download | transcription | vision
    reason: str  # mime | too_large | empty | not_found | expired | unavailable | model
    error: str  # shortened; never the bytes


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class MediaHandled:
    """How a turn treated one media message, location or reaction (metrics count these)."""

    TYPE: ClassVar[str] = "media.handled"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"media_id", "detail"})

    wamid: str
    kind: str  # audio | image | video | document | sticker | location | reaction
    outcome: str  # transcribed | list_read | not_a_list | caption | offline | failed | ...
    media_id: str | None = None
    review: bool = False  # a person should look (the review queue shows it)
    detail: str | None = None  # why, for the review queue (a failure's stage and reason)


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryLocationShared:
    """The customer shared a position; ``inside`` is the delivery-area verdict (None: no area)."""

    TYPE: ClassVar[str] = "media.delivery_location_shared"
    VERSION: ClassVar[int] = 1
    PERSONAL: ClassVar[frozenset[str]] = frozenset({"latitude", "longitude", "name", "address"})

    wamid: str
    latitude: str  # decimal degrees as Meta wrote them; text, so an erased one reads as such
    longitude: str
    name: str | None = None
    address: str | None = None
    inside: bool | None = None
    distance_m: int | None = None  # from the area's centre
