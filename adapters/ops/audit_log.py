"""Checks over the log itself, fed one row at a time in position order.

Versions and ordering, codec round trips, the outbox invariant (each queued reply has one
outcome or sits on the review queue), unique inbound wamids and raw webhook bodies. The
checks keep only small per-stream and per-id tallies, so a million-row log fits in memory.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from adapters.ops.findings import AuditReport
from adapters.ops.rawlog import RawEvent
from adapters.store.people import open_sealed
from events.base import ERASED, RecordedEvent
from events.codec import SEALED, EncodeError, encode_payload
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.engine import ReactorEventParked
from events.errors import EventDecodeError
from events.ops import RawBodyDropped
from events.outbox import OutboundReconciled
from events.send_retries import OutboundRetryScheduled
from events.whatsapp import MessageReceived, WebhookReceived

OUTCOMES = (OutboundSent, OutboundFailed, OutboundReconciled)


_SEALED_MARK = '"' + SEALED + '":{'


@dataclass(slots=True)
class _Stream:
    count: int = 0
    max_version: int = 0
    last_version: int = 0
    last_position: int = 0


@dataclass(slots=True)
class LogChecks:
    """Row-by-row checks; call :meth:`feed` for every row, then :meth:`finish`."""

    report: AuditReport
    queued_before: datetime  # replies queued later are in flight, not findings
    streams: dict[str, _Stream] = field(default_factory=dict)
    queued: dict[str, tuple[int, str, datetime]] = field(default_factory=dict)
    outcomes: dict[str, list[object]] = field(default_factory=dict)
    parked: set[int] = field(default_factory=set)
    wamids: Counter[str] = field(default_factory=Counter)
    bad_bodies: dict[str, int] = field(default_factory=dict)  # event id -> position
    dropped: set[str] = field(default_factory=set)
    retry_due: dict[str, datetime] = field(default_factory=dict)  # stream -> latest retry due
    _previous: int = 0

    def decode(self, row: RawEvent) -> RecordedEvent | None:
        """The row decoded, or None after naming it (decode and codec checks)."""
        try:
            data = row.json_data()
            recorded = row.decode(data)
        except (EventDecodeError, ValueError) as exc:
            self.report.add("decode", f"position {row.position} ({row.type}): {exc}")
            return None
        if type(data) is dict and SEALED in data:  # compare with the fields opened
            data = open_sealed(row.type, dict(data))
        if row.schema_version == type(recorded.payload).VERSION:
            try:
                same = encode_payload(recorded.payload) == data
            except EncodeError:
                same = False
            if not same:
                self.report.add(
                    "codec", f"position {row.position} ({row.type}) does not re-encode as stored"
                )
        return recorded

    def feed(self, row: RawEvent, recorded: RecordedEvent | None) -> None:
        """Check one row (``recorded`` is None when it did not decode)."""
        self._order(row)
        if recorded is None:
            return
        p = recorded.payload
        if isinstance(p, ReplyQueued):
            self.queued[p.outbound_id] = (row.position, row.stream, row.recorded_at)
        elif isinstance(p, OUTCOMES):
            self.outcomes.setdefault(p.outbound_id, []).append(p)
        elif isinstance(p, MessageReceived):
            self.wamids[p.wamid] += 1
        elif isinstance(p, WebhookReceived):
            self._body(row, p)
        elif isinstance(p, RawBodyDropped):
            self.dropped.update(p.event_ids)
        elif isinstance(p, ReactorEventParked):
            self.parked.add(p.position)
        elif isinstance(p, OutboundRetryScheduled):  # that person's replies are in flight
            self.retry_due[row.stream] = max(p.due_at, self.retry_due.get(row.stream, p.due_at))

    def _order(self, row: RawEvent) -> None:
        if row.position <= self._previous:
            self.report.add("ordering", f"position {row.position} repeats or goes backwards")
        self._previous = row.position
        s = self.streams.get(row.stream)
        if s is None:
            s = self.streams[row.stream] = _Stream()
        if row.version <= s.last_version:
            self.report.add(
                "ordering",
                f"{row.stream} v{row.version} at position {row.position} comes after"
                f" v{s.last_version} at position {s.last_position}",
            )
        s.count += 1
        s.max_version = max(s.max_version, row.version)
        s.last_version, s.last_position = row.version, row.position

    def _body(self, row: RawEvent, p: WebhookReceived) -> None:
        if p.body == ERASED and _SEALED_MARK in row.data:
            return  # sealed, and a person it named was erased (crypto-shredding)
        if p.body is not None:
            raw = p.body.encode("utf-8")
        else:
            try:
                raw = base64.b64decode(p.body_b64 or "", validate=True)
            except ValueError:
                raw = b"\x00invalid base64"
        if hashlib.sha256(raw).hexdigest() != p.body_sha256:
            self.bad_bodies[row.event_id_text] = row.position

    def finish(self) -> None:
        """The checks that need the whole log."""
        self._versions()
        self._outbox()
        for wamid, n in sorted(self.wamids.items()):
            if n > 1:
                self.report.add("wamids", f"inbound wamid {wamid} is recorded {n} times")
        for event_id, position in sorted(self.bad_bodies.items(), key=lambda kv: kv[1]):
            if event_id not in self.dropped:
                self.report.add(
                    "webhook_bodies",
                    f"position {position}: the raw body does not match body_sha256"
                    " and no retention run dropped it",
                )

    def _versions(self) -> None:
        for name, s in self.streams.items():
            if s.count != s.max_version:
                missing = s.max_version - s.count
                self.report.add(
                    "versions",
                    f"{name}: {missing} version(s) missing below v{s.max_version}"
                    f" ({s.count} events stored)",
                )

    def _outbox(self) -> None:
        for oid, (position, stream, at) in sorted(self.queued.items(), key=lambda kv: kv[1][0]):
            found = self.outcomes.get(oid, [])
            if len(found) == 1 or _unknown_then_reconciled(found):
                continue
            if not found:
                if position in self.parked or at >= self.queued_before:
                    continue
                if self.retry_due.get(stream, at) >= self.queued_before:
                    continue  # waiting for (or behind) a scheduled send retry
                self.report.add(
                    "outbox",
                    f"reply {oid} queued at position {position} ({stream}) has no outcome"
                    " and is not on the review queue",
                )
            else:
                kinds = ", ".join(type(p).TYPE for p in found)  # type: ignore[attr-defined]
                self.report.add("outbox", f"reply {oid} has {len(found)} outcomes: {kinds}")
        for oid in sorted(set(self.outcomes) - set(self.queued)):
            self.report.add("outbox", f"outcome recorded for unknown reply {oid}")


def _unknown_then_reconciled(found: list[object]) -> bool:
    """An unknown-outcome failure later proven delivered counts as one outcome."""
    return (
        len(found) == 2
        and isinstance(found[0], OutboundFailed)
        and found[0].outcome_unknown
        and isinstance(found[1], OutboundReconciled)
    )
