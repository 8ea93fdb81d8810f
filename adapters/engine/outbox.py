"""The outbox sender: ``ReplyQueued`` in, one Graph API call, ``OutboundSent``/``Failed`` out.

Protocol per outbound message (idempotent, crash-safe):

1. If the stream already holds an outcome for the id, do nothing.
2. If it holds an attempt but no outcome, the process died mid-send: the message may
   have reached the customer. Reconcile from a status webhook carrying our id, or record
   ``OutboundFailed(outcome_unknown=True)`` for review. Never resend blindly.
3. Outside the 24-hour window only templates go out; other kinds fail without a call.
4. Otherwise record ``OutboundAttempted``, call Meta, record the outcome. Transient errors
   (5xx, rate limits) are retried with exponential backoff and jitter up to
   ``max_attempts``; a timeout or reset is an unknown outcome and is not retried.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from core.outbound import (
    Button,
    ButtonsMessage,
    Messenger,
    OutboundContent,
    OutboundMessage,
    ReactionMessage,
    SendError,
    TemplateMessage,
    TextMessage,
    TransientSendError,
    backoff_delay,
)
from core.window import outbound_allowed
from events.base import Metadata, NewEvent, RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyKind, ReplyQueued
from events.outbox import OutboundAttempted, OutboundReconciled
from events.whatsapp import MessageReceived, StatusReceived

log = structlog.get_logger(__name__)
OUTBOX_NAMESPACE = uuid.UUID("0b7e4a52-2a0c-4d8e-9f3b-8d1c6e5a4f20")
WINDOW_CODE = 131047  # Meta's code for "outside the 24-hour window"


def is_reply_queued(event: RecordedEvent) -> bool:
    """The dispatcher's selector: the sender handles queued replies."""
    return event.type == ReplyQueued.TYPE


def content_for(reply: ReplyQueued) -> OutboundContent:
    """The Graph API message for a queued reply (lists degrade to text until modelled)."""
    if reply.kind is ReplyKind.BUTTONS and reply.buttons:
        buttons = tuple(Button(id=b.id, title=b.title) for b in reply.buttons)
        return ButtonsMessage(body=reply.text, buttons=buttons)
    if reply.kind is ReplyKind.TEMPLATE:
        return TemplateMessage(name=reply.text, language="it")
    if reply.kind is ReplyKind.REACTION and reply.in_reply_to:
        return ReactionMessage(message_id=reply.in_reply_to, emoji=reply.text)
    return TextMessage(body=reply.text)


class OutboxSender:
    """Carries out queued replies through a :class:`Messenger` (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        messenger: Messenger,
        *,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.store, self.messenger = store, messenger
        self.max_attempts, self.backoff_base = max_attempts, backoff_base
        self._clock, self._jitter = clock, jitter

    async def handle(self, stream: str, events: Sequence[RecordedEvent]) -> None:
        """Send every queued reply of ``events`` that has no outcome yet, in order."""
        history = await self.store.read_stream(stream)
        for queued in events:
            if isinstance(queued.payload, ReplyQueued):
                await self._one(stream, queued, history)

    async def _one(self, stream: str, queued: RecordedEvent, history: list[RecordedEvent]) -> None:
        reply: ReplyQueued = queued.payload
        oid = reply.outbound_id
        payloads = [e.payload for e in history]
        if any(
            isinstance(p, OutboundSent | OutboundFailed | OutboundReconciled)
            and p.outbound_id == oid
            for p in payloads
        ):
            return
        if any(isinstance(p, OutboundAttempted) and p.outbound_id == oid for p in payloads):
            await self._unknown_outcome(stream, queued, payloads)
            return
        if not outbound_allowed(reply.kind, _last_inbound_at(payloads), self._clock()):
            failed = OutboundFailed(
                outbound_id=oid,
                code=WINDOW_CODE,
                title="outside the 24-hour window: not sent",
                retryable=False,
            )
            await self._record(stream, queued, "failed", failed)
            return
        await self._send(stream, queued, reply)

    async def _send(self, stream: str, queued: RecordedEvent, reply: ReplyQueued) -> None:
        message = OutboundMessage(
            outbound_id=reply.outbound_id, to=reply.to, content=content_for(reply), reply_to=None
        )
        for attempt in range(1, self.max_attempts + 1):
            await self._record(
                stream,
                queued,
                f"attempt:{attempt}",
                OutboundAttempted(outbound_id=reply.outbound_id, attempt=attempt),
            )
            try:
                result = await self.messenger.send(message)
            except SendError as exc:
                if self._retry(exc, attempt):
                    delay = backoff_delay(
                        attempt,
                        base=self.backoff_base,
                        jitter=self._jitter(),
                        retry_after=exc.retry_after,
                    )
                    await asyncio.sleep(delay)
                    continue
                await self._record(stream, queued, "failed", _failure(reply.outbound_id, exc))
                return
            sent = OutboundSent(outbound_id=reply.outbound_id, wamid=result.wamid or "")
            await self._record(stream, queued, "sent", sent)
            return

    def _retry(self, exc: SendError, attempt: int) -> bool:
        transient = isinstance(exc, TransientSendError) and not exc.outcome_unknown
        return transient and attempt < self.max_attempts

    async def _unknown_outcome(
        self, stream: str, queued: RecordedEvent, payloads: list[Any]
    ) -> None:
        oid = queued.payload.outbound_id
        proof = next(
            (
                p
                for p in payloads
                if isinstance(p, StatusReceived)
                and p.biz_opaque_callback_data == oid
                and p.status != "failed"
            ),
            None,
        )
        if proof is not None:
            done = OutboundReconciled(outbound_id=oid, wamid=proof.wamid, status=proof.status)
            await self._record(stream, queued, "reconciled", done)
            return
        log.warning("outbox.outcome_unknown", outbound_id=oid)
        failed = OutboundFailed(
            outbound_id=oid,
            code=None,
            retryable=False,
            outcome_unknown=True,
            title="interrupted mid-send: outcome unknown, not resent",
        )
        await self._record(stream, queued, "failed", failed)

    async def _record(self, stream: str, queued: RecordedEvent, step: str, payload: Any) -> None:
        oid = queued.payload.outbound_id
        new = NewEvent(
            event_id=uuid.uuid5(OUTBOX_NAMESPACE, f"{oid}:{step}"),
            payload=payload,
            metadata=Metadata(
                causation_id=str(queued.event_id),
                source="reactor:outbox",
                correlation_id=queued.metadata.correlation_id,
            ),
        )
        await self.store.append(stream, Expect.ANY, [new])


def _failure(outbound_id: str, exc: SendError) -> OutboundFailed:
    return OutboundFailed(
        outbound_id=outbound_id,
        code=exc.code,
        title=exc.title or exc.message[:200],
        retryable=isinstance(exc, TransientSendError),
        outcome_unknown=exc.outcome_unknown,
    )


def _last_inbound_at(payloads: list[Any]) -> datetime | None:
    times = [p.sent_at for p in payloads if isinstance(p, MessageReceived)]
    return max(times) if times else None
