"""Retrying a review-queue item, according to its kind.

* ``parked``: the reactor that parked the event re-drives it through
  :meth:`~adapters.engine.dispatch.StreamDispatcher.reprocess` (the machinery behind
  ``dloop-bot reprocess``: under the stream's lease, outcome recorded as
  ``ParkedEventReprocessed``). A re-drive that fails again is an answer, not an error:
  the item stays open.
* ``outbound_failed`` (a failed or unknown-outcome send): a new ``ReplyQueued`` with the
  same content and a new outbound id goes through the outbox, after the pure core
  (:func:`core.conversation.decide_resend`) checked the 24-hour window and the opt-out.
  A send proven delivered since (``OutboundReconciled``/``OutboundSent``) is not resent.
* ``assistant_failed`` and ``escalated``: nothing to re-run (the fallback reply already
  went out and the turn is processed; an escalation waits for a person), so 409.

Every retry is recorded as ``ReviewItemRetried`` (who, what, the new outbound id or the
re-drive's outcome), which the review projection reads to mark the item ``retried``. The
resend and its record are one append expecting the stream's version, so two operators
retrying the same item at once send it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.engine.conversation import stream_key
from adapters.engine.dispatch import StreamDispatcher
from adapters.readmodel.queries import StateConflictError
from adapters.store.event_store import EventStore
from adapters.store.types import AppendResult, Expect, StreamVersionConflictError
from core.conversation import ConversationState, fold
from core.turn_rules import decide_resend
from events.base import Metadata, NewEvent, RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.engine import ReviewItemRetried
from events.outbox import OutboundReconciled
from projections.review_queue import parked_id

Reactors = Callable[[], AbstractAsyncContextManager[Sequence[StreamDispatcher]]]
ATTEMPTS = 3
NOT_RETRYABLE = {
    "assistant_failed": (
        "re-running an assistant turn is not supported: its fallback reply already went "
        "out; take the conversation over and reply, or dismiss the item"
    ),
    "escalated": (
        "an escalation is not retryable: take the conversation over, or dismiss the item"
    ),
}


@dataclass(frozen=True, slots=True)
class RetryOutcome:
    """What a retry did: the re-drive's verdict, or the new send's id."""

    succeeded: bool
    error: str | None = None
    outbound_id: str | None = None  # the new send
    original_outbound_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # what was appended

    def to_json(self) -> dict[str, Any]:
        """The ``retry`` object of the API answer."""
        return {
            "succeeded": self.succeeded,
            "error": self.error,
            "outbound_id": self.outbound_id,
            "original_outbound_id": self.original_outbound_id,
            "events": self.events,
        }


class ReviewRetrier:
    """Carries out retries of review items (see the module docstring)."""

    def __init__(
        self,
        store: EventStore,
        reactors: Reactors,
        *,
        lease_timeout: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store, self.reactors = store, reactors
        self.lease_timeout = lease_timeout
        self.clock = clock  # public: the 24-hour window is judged at clock()

    async def retry(self, item: Mapping[str, Any], agent: str, meta: Metadata) -> RetryOutcome:
        """Retry ``item`` (a review row); ``StateConflictError`` or ``DomainError`` when illegal."""
        if item["status"] != "open":
            raise StateConflictError(f"review item is {item['status']}, not open")
        kind = str(item["kind"])
        if kind == "parked":
            return await self._redrive(item, agent, meta)
        if kind == "outbound_failed":
            return await self._resend(item, agent, meta)
        raise StateConflictError(NOT_RETRYABLE.get(kind, f"a {kind} item cannot be retried"))

    # -- parked events -------------------------------------------------------------------

    async def _redrive(self, item: Mapping[str, Any], agent: str, meta: Metadata) -> RetryOutcome:
        position = int(item["position"])
        async with self.reactors() as dispatchers:
            owner = next(
                (d for d in dispatchers if parked_id(d.name, position) == item["id"]), None
            )
            if owner is None:
                raise StateConflictError(
                    "no reactor of this process parked this item: run dloop-bot reprocess"
                )
            outcomes = await owner.reprocess(position, lease_timeout=self.lease_timeout)
        if not outcomes:
            raise StateConflictError(f"no parked event at position {position}")
        outcome = outcomes[-1]
        record = ReviewItemRetried(
            item_id=str(item["id"]),
            kind="parked",
            agent=agent,
            succeeded=outcome.succeeded,
            position=position,
            error=outcome.error,
        )
        result = await self.store.append(
            f"parked-{owner.name}",
            Expect.ANY,
            [NewEvent(event_id=uuid.uuid4(), payload=record, metadata=meta)],
        )
        return RetryOutcome(
            succeeded=outcome.succeeded, error=outcome.error, events=_listed([record], result)
        )

    # -- failed sends --------------------------------------------------------------------

    async def _resend(self, item: Mapping[str, Any], agent: str, meta: Metadata) -> RetryOutcome:
        stream = str(item["stream"])
        for _ in range(ATTEMPTS):
            history = await self.store.read_stream(stream)
            original = _original(history, int(item["position"]))
            oid = original.payload.outbound_id
            if _delivered(history, oid):
                raise StateConflictError(
                    "the message was delivered after all (a status webhook proved it): "
                    "nothing to resend"
                )
            if _retried(history, str(item["id"])):
                raise StateConflictError("this item was already retried")
            state = fold(ConversationState(key=stream_key(stream)), [e.payload for e in history])
            resend = decide_resend(state, original.payload, self.clock(), str(uuid.uuid4()))
            record = ReviewItemRetried(
                item_id=str(item["id"]),
                kind="outbound_failed",
                agent=agent,
                succeeded=True,
                original_outbound_id=oid,
                retry_outbound_id=resend.outbound_id,
            )
            linked = Metadata(
                correlation_id=meta.correlation_id,
                causation_id=str(original.event_id),  # the send this one repeats
                source=meta.source,
                extra=meta.extra,
            )
            new = [
                NewEvent(event_id=uuid.uuid4(), payload=resend, metadata=linked),
                NewEvent(event_id=uuid.uuid4(), payload=record, metadata=linked),
            ]
            try:
                result = await self.store.append(stream, history[-1].version, new)
            except StreamVersionConflictError:
                continue
            return RetryOutcome(
                succeeded=True,
                outbound_id=resend.outbound_id,
                original_outbound_id=oid,
                events=_listed([resend, record], result),
            )
        raise StateConflictError("the conversation kept changing; try again")


def _original(history: list[RecordedEvent], position: int) -> RecordedEvent:
    """The queued reply whose failure is recorded at ``position``."""
    failed = next((e for e in history if e.position == position), None)
    if failed is None or not isinstance(failed.payload, OutboundFailed):
        raise StateConflictError(f"no failed send at position {position} of this conversation")
    oid = failed.payload.outbound_id
    for e in history:
        if isinstance(e.payload, ReplyQueued) and e.payload.outbound_id == oid:
            return e
    raise StateConflictError(f"the queued message {oid!r} is not in the conversation")


def _delivered(history: list[RecordedEvent], oid: str) -> bool:
    return any(
        isinstance(e.payload, OutboundSent | OutboundReconciled) and e.payload.outbound_id == oid
        for e in history
    )


def _retried(history: list[RecordedEvent], item_id: str) -> bool:
    return any(
        isinstance(e.payload, ReviewItemRetried) and e.payload.item_id == item_id for e in history
    )


def _listed(payloads: Sequence[Any], result: AppendResult) -> list[dict[str, Any]]:
    return [
        {"type": p.TYPE, "position": a.position, "version": a.version}
        for p, a in zip(payloads, result.appended, strict=True)
    ]
