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


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorAlerted:
    """A send failed through the business's own fault (expired token 190, locked account...).

    Not the recipient's problem and not retried: a person must fix the configuration.
    Raised once per failed outbound message; it opens a review-queue item, counts in
    ``dloop_operator_alerts`` and pushes an alert to support.
    """

    TYPE: ClassVar[str] = "outbox.operator_alerted"
    VERSION: ClassVar[int] = 1

    outbound_id: str
    code: int | None  # Meta's error code (190: access token expired)
    title: str  # Meta's error title or message
    source: str = "send"  # send (the Graph API call) | status (a failed status webhook)
