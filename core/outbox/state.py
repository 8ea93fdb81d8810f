"""The outbox decider's state: what it knows of one conversation stream, folded once and kept.

Which replies have an outcome, which were attempted without one (a crash mid-send),
which id a merged send carried, which status proves a delivery, when the customer last
wrote, which retries are scheduled: :class:`OutboxState` answers all of that from maps
updated one stored event at a time by :func:`evolve`, so the shell's
:class:`~adapters.engine.stream_cache.StreamCache` only reads the events after the
version it already folded.

The state is mutable (one per cached stream, updated in place, because copying its maps
for every event would make a long conversation cost more per event): it is only ever
changed by :func:`evolve` folding stored events in version order, so sharing it between
turns is safe. :func:`evolve` is total: no stored fact makes it raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from events.base import RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.engine import TurnProcessed
from events.outbox import OutboundAttempted, OutboundReconciled
from events.send_retries import OutboundRetryScheduled
from events.whatsapp import MessageReceived, StatusReceived


@dataclass(slots=True)
class OutboxState:
    """A conversation stream's outbox facts, by outbound id (see the module docstring)."""

    queued: dict[str, RecordedEvent] = field(default_factory=dict)  # our id -> ReplyQueued
    ids_by_event: dict[str, str] = field(default_factory=dict)  # ReplyQueued event id -> our id
    done: set[str] = field(default_factory=set)  # sent, failed or reconciled
    attempted: set[str] = field(default_factory=set)
    in_flight: set[str] = field(default_factory=set)  # attempted, no outcome: kept, not derived
    carriers: dict[str, str] = field(default_factory=dict)  # our id -> the id it was sent under
    by_wamid: dict[str, str] = field(default_factory=dict)  # Meta's id -> our id
    unknown: set[str] = field(default_factory=set)  # failed with an unknown outcome
    reconciled: set[str] = field(default_factory=set)
    # our id -> the first non-failed status naming it, with its version (log order)
    proofs: dict[str, tuple[int, StatusReceived]] = field(default_factory=dict)
    answered: set[str] = field(default_factory=set)  # inbound fact ids a turn covered
    last_inbound_at: datetime | None = None
    scheduled: dict[str, int] = field(default_factory=dict)  # our id -> its latest retry
    last_attempt: dict[str, int] = field(default_factory=dict)  # our id -> its last attempt
    first_failed: dict[str, datetime] = field(default_factory=dict)  # our id -> horizon start

    def attempted_only(self) -> set[str]:
        """Ids attempted without an outcome (the process died mid-send).

        Kept up to date by :func:`evolve` rather than computed as ``attempted - done``,
        which walked every reply the conversation ever had on every outbox turn.
        """
        return set(self.in_flight)

    def retrying(self) -> set[str]:
        """Ids waiting for a scheduled retry (no outcome yet)."""
        return self.scheduled.keys() - self.done

    def unsent(self) -> list[RecordedEvent]:
        """Queued replies with no outcome and no attempt in flight, in queue order."""
        skip = self.done | self.attempted
        return sorted(
            (q for oid, q in self.queued.items() if oid not in skip), key=lambda q: q.version
        )

    def queued_for(self, status: StatusReceived) -> RecordedEvent | None:
        """The reply a status webhook is about: by our id, else by the wamid we recorded."""
        oid = status.biz_opaque_callback_data
        if oid is None:
            oid = self.by_wamid.get(status.wamid)
        return None if oid is None else self.queued.get(oid)

    def proof_for(self, carriers: set[str]) -> StatusReceived | None:
        """The first non-failed status naming one of ``carriers`` (in log order)."""
        found = [p for c in carriers if (p := self.proofs.get(c)) is not None]
        return min(found, key=lambda p: p[0])[1] if found else None


def evolve(ix: OutboxState, event: RecordedEvent) -> OutboxState:
    """``ix`` after one more stored event of its stream (updated in place)."""
    p = event.payload
    if isinstance(p, ReplyQueued):
        ix.queued.setdefault(p.outbound_id, event)
        ix.ids_by_event[str(event.event_id)] = p.outbound_id
    elif isinstance(p, OutboundAttempted):
        ix.attempted.add(p.outbound_id)
        if p.outbound_id not in ix.done:
            ix.in_flight.add(p.outbound_id)
        ix.last_attempt[p.outbound_id] = max(p.attempt, ix.last_attempt.get(p.outbound_id, 0))
        cause = ix.ids_by_event.get(event.metadata.causation_id or "", p.outbound_id)
        ix.carriers[p.outbound_id] = cause
    elif isinstance(p, OutboundSent):
        _done(ix, p.outbound_id)
        ix.by_wamid.setdefault(p.wamid, p.outbound_id)
    elif isinstance(p, OutboundFailed):
        _done(ix, p.outbound_id)
        if p.outcome_unknown:
            ix.unknown.add(p.outbound_id)
    elif isinstance(p, OutboundReconciled):
        _done(ix, p.outbound_id)
        ix.reconciled.add(p.outbound_id)
    elif isinstance(p, StatusReceived):
        _status(ix, p, event.version)
    elif isinstance(p, MessageReceived):
        last = ix.last_inbound_at
        ix.last_inbound_at = p.sent_at if last is None else max(last, p.sent_at)
    elif isinstance(p, TurnProcessed):
        ix.answered.update(p.fact_ids)
    elif isinstance(p, OutboundRetryScheduled):
        # Its attempts failed for sure (transiently): no longer "attempted, outcome unknown".
        ix.attempted.discard(p.outbound_id)
        ix.in_flight.discard(p.outbound_id)
        ix.scheduled[p.outbound_id] = p.retry
        ix.first_failed.setdefault(p.outbound_id, p.first_failed_at)
    return ix


def _done(ix: OutboxState, oid: str) -> None:
    ix.done.add(oid)
    ix.in_flight.discard(oid)


def _status(ix: OutboxState, p: StatusReceived, version: int) -> None:
    oid = p.biz_opaque_callback_data
    if oid is not None and p.status != "failed" and oid not in ix.proofs:
        ix.proofs[oid] = (version, p)


def initial(_stream: str) -> OutboxState:
    """An empty state (a stream with no events yet)."""
    return OutboxState()
