"""Builders for the outbox decider's tests: a conversation stream as stored events, folded.

``given(...)`` stores facts and folds them into an :class:`OutboxState`; ``when(...)``
stores the batch the shell would hand over (folded too: the shell's cache has read it
before asking), and returns it. No store, no HTTP: the decider is pure.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.outbox.state import OutboxState, evolve, initial
from events.base import Metadata, RecordedEvent
from events.conversation import ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived, MetaError, StatusReceived

KEY = "+393331234567"
STREAM = f"conversation-{KEY}"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


class Stream:
    """One conversation stream: stored events and the decider state folded from them."""

    def __init__(self) -> None:
        self.state: OutboxState = initial(STREAM)
        self.version = 0

    def store(self, payload: object, *, cause: RecordedEvent | None = None) -> RecordedEvent:
        """``payload`` stored at the next version and folded into the state."""
        self.version += 1
        event = RecordedEvent(
            position=self.version,
            event_id=uuid.uuid4(),
            stream=STREAM,
            version=self.version,
            type=type(payload).TYPE,  # type: ignore[attr-defined]
            schema_version=1,
            payload=payload,
            metadata=Metadata(causation_id=str(cause.event_id) if cause else None),
            recorded_at=NOW,
        )
        self.state = evolve(self.state, event)
        return event

    def given(self, *payloads: object) -> list[RecordedEvent]:
        """Facts already in the stream before the batch."""
        return [self.store(p) for p in payloads]

    def when(self, *payloads: object) -> list[RecordedEvent]:
        """The batch the shell hands to the decider (already in the stream, as in the shell)."""
        return [self.store(p) for p in payloads]


def inbound(at: datetime = NOW - timedelta(minutes=1), n: int = 1) -> MessageReceived:
    """The customer's text message sent at ``at``."""
    return MessageReceived(
        wamid=f"wamid.in.{n}", wa_id=KEY[1:], phone=KEY, bsuid=None, kind="text",
        text="ciao", sent_at=at,
    )  # fmt: skip


def text(oid: str, body: str = "ciao") -> ReplyQueued:
    """A text reply queued under ``oid``."""
    return ReplyQueued(outbound_id=oid, to=KEY, kind=ReplyKind.TEXT, text=body)


def template(oid: str) -> ReplyQueued:
    """An approved template queued under ``oid`` (allowed outside the window)."""
    return ReplyQueued(outbound_id=oid, to=KEY, kind=ReplyKind.TEMPLATE, text="ordine_pronto")


def reaction(oid: str) -> ReplyQueued:
    """A reaction to the customer's message (never merged)."""
    return ReplyQueued(
        outbound_id=oid, to=KEY, kind=ReplyKind.REACTION, text="👍", in_reply_to="wamid.in.1"
    )


def attempted(oid: str, attempt: int = 1) -> OutboundAttempted:
    """An attempt recorded before Meta was called."""
    return OutboundAttempted(outbound_id=oid, attempt=attempt)


def status(
    oid: str | None, value: str = "delivered", *, wamid: str = "wamid.out.1", code: int = 0
) -> StatusReceived:
    """A status webhook naming ``oid`` (``code`` for a failed one)."""
    errors = (MetaError(code=code, title=f"error {code}"),) if value == "failed" else ()
    return StatusReceived(
        wamid=wamid, status=value, recipient_id=KEY[1:], phone=KEY, bsuid=None,
        timestamp=NOW, biz_opaque_callback_data=oid, errors=errors,
    )  # fmt: skip
