"""Operator actions recorded in the log (``ops-*`` streams).

Events are immutable, with one documented exception: the retention job rewrites old
``whatsapp.webhook_received`` rows to drop their raw body (docs/operations.md). Each batch
it rewrites is announced first by :class:`RawBodyDropped`, so the log itself says which
bodies are gone, when and why, and ``dloop-bot audit`` can tell a dropped body from a
tampered one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class RawBodyDropped:
    """The raw bodies of these webhook deliveries were dropped; their parsed facts remain."""

    TYPE: ClassVar[str] = "ops.raw_body_dropped"
    VERSION: ClassVar[int] = 1

    event_ids: tuple[str, ...]  # the ``whatsapp.webhook_received`` events rewritten
    positions: tuple[int, ...]  # their positions, in the same order
    retention_days: int
    older_than: datetime  # the cut-off: deliveries recorded before it
    dropped_at: datetime
    bytes_dropped: int  # UTF-8 (or base64) size of the bodies removed
