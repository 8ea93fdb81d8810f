"""Outbox bookkeeping: an attempt is recorded before Meta is called.

Meta's send API has no idempotency key, so after a crash an attempt without an outcome
may or may not have been delivered; it is never resent blindly. A later status webhook
carrying our id in ``biz_opaque_callback_data`` reconciles it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundAttempted:
    """The sender is about to call Meta for this outbound message (attempt from 1)."""

    TYPE: ClassVar[str] = "outbox.attempted"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    attempt: int


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundReconciled:
    """A send whose outcome was unknown was proven delivered by a status webhook."""

    TYPE: ClassVar[str] = "outbox.reconciled"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    wamid: str
    status: str  # the status that proved it: sent | delivered | read
