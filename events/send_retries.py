"""Durable send retries: a transient failure schedules the next try; the timer records it due.

A send that failed for a transient reason (5xx, 429/130429, a refused connection, a
timeout before the request was written) after the outbox's quick attempts is not given
up: ``OutboundRetryScheduled`` records when it is tried again, so the schedule survives a
restart. When that time comes the retry timer appends ``OutboundRetryDue`` (the timer's
firing is a recorded fact, so replay never reads the clock) and the outbox sends every
reply of that person still unsent, in the order they were queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundRetryScheduled:
    """The send of ``outbound_id`` failed transiently; it is tried again at ``due_at``."""

    TYPE: ClassVar[str] = "outbox.retry_scheduled"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    retry: int  # 1 for the first scheduled retry, then 2, 3...
    due_at: datetime
    first_failed_at: datetime  # when the quick attempts first failed: the horizon runs from it
    code: int | None = None  # Meta's error code of the last failure, if any
    title: str = ""  # what the last failure said


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundRetryDue:
    """The retry timer found ``outbound_id``'s scheduled retry due (at ``fired_at``)."""

    TYPE: ClassVar[str] = "outbox.retry_due"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    retry: int
    fired_at: datetime
