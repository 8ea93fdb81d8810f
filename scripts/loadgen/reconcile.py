"""Reconciliation: what was acknowledged against what the log and the fake Graph API hold.

Promises checked (each a count that must be zero):

* ``lost``: an acknowledged body (by SHA-256) with no ``WebhookReceived``;
* ``double_recorded``: a body recorded more than once (exact redeliveries must be no-ops);
* ``messages_missing`` / ``messages_doubled``: an acknowledged inbound wamid with no, or
  more than one, ``MessageReceived``;
* ``unprocessed`` / ``processed_twice``: an inbound message no turn covered, or that two
  turns covered;
* ``replies_unsent``: a queued reply with neither an accepted send nor a recorded outcome;
* ``replies_failed``: a queued reply that failed (the fake Graph API here never refuses);
* ``duplicate_sends``: extra sends the fake Graph API accepted for one outbound id
  (``biz_opaque_callback_data``);
* ``parked``: events a reactor gave up on after its retries (with no fault injected,
  a reactor failing three times in a row is a defect, even though the review queue
  shows it).

A reply whose send was interrupted by a crash is recorded with an unknown outcome and
not resent (never risk a double send); it is counted in ``replies_unknown``, not as unsent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from adapters.ops.rawlog import RawEvent, pages
from adapters.store.engine import create_engines
from scripts.loadgen.graph import ObservedGraph
from scripts.loadgen.traffic import Delivery

_SENT, _FAILED = "conversation.outbound_sent", "conversation.outbound_failed"
_RECONCILED = "outbox.reconciled"


@dataclass(slots=True)
class LogTally:
    """The facts of the log that reconciliation compares, gathered in one pass."""

    bodies: Counter[str] = field(default_factory=Counter)  # body SHA-256 -> rows
    wamids: Counter[str] = field(default_factory=Counter)  # inbound wamid -> rows
    message_ids: set[str] = field(default_factory=set)  # event ids of inbound messages
    covered: Counter[str] = field(default_factory=Counter)  # fact id -> turns covering it
    queued: set[str] = field(default_factory=set)  # outbound ids
    where: dict[str, str] = field(default_factory=dict)  # outbound id -> "stream@position"
    sent: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)  # failed with an unknown outcome
    failed: set[str] = field(default_factory=set)
    parked: list[str] = field(default_factory=list)  # "reactor stream type: error"
    statuses: int = 0
    events: int = 0

    def feed(self, row: RawEvent) -> None:
        """Account for one row."""
        self.events += 1
        kind = row.type
        if kind == "whatsapp.webhook_received":
            self.bodies[_data(row)["body_sha256"]] += 1
        elif kind == "whatsapp.message_received":
            self.wamids[_data(row)["wamid"]] += 1
            self.message_ids.add(row.event_id_text)
        elif kind == "whatsapp.status_received":
            self.statuses += 1
        elif kind == "engine.event_parked":
            p = _data(row)
            self.parked.append(f"{p['reactor']} {p['stream']}@{p['position']}: {p['error']}")
        elif kind == "engine.turn_processed":
            self.covered.update(_data(row)["fact_ids"])
        elif kind == "conversation.reply_queued":
            outbound_id = _data(row)["outbound_id"]
            self.queued.add(outbound_id)
            self.where[outbound_id] = f"{row.stream}@{row.position}"
        elif kind in (_SENT, _RECONCILED):
            self.sent.add(_data(row)["outbound_id"])
        elif kind == _FAILED:
            data = _data(row)
            (self.unknown if data.get("outcome_unknown") else self.failed).add(data["outbound_id"])

    def settled(self, acked_wamids: Collection[str]) -> bool:
        """Every acknowledged message recorded and handled, every reply with an outcome."""
        return (
            all(w in self.wamids for w in acked_wamids)
            and all(m in self.covered for m in self.message_ids)
            and self.queued <= (self.sent | self.unknown | self.failed)
        )


def _data(row: RawEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(row.data)
    return loaded


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The counts; :attr:`ok` when every promise held."""

    acked_deliveries: int
    recorded_deliveries: int
    lost: int
    double_recorded: int
    acked_messages: int
    messages_missing: int
    messages_doubled: int
    unprocessed: int
    processed_twice: int
    statuses_recorded: int
    replies_queued: int
    replies_sent: int
    replies_unknown: int
    replies_failed: int
    replies_unsent: int
    duplicate_sends: int
    send_requests_repeated: int
    parked: int  # events a reactor gave up on after its retries (on the review queue)
    settled: bool  # quiescence reached before the wait ran out
    events: int
    examples: dict[str, list[str]] = field(default_factory=dict)  # a few ids per failed check

    @property
    def ok(self) -> bool:
        """No acknowledged delivery lost or doubled, every reply sent exactly once."""
        zeros = (
            self.lost,
            self.double_recorded,
            self.messages_missing,
            self.messages_doubled,
            self.unprocessed,
            self.processed_twice,
            self.replies_unsent,
            self.replies_failed,
            self.duplicate_sends,
            self.parked,
        )
        return not any(zeros)

    def to_json(self) -> dict[str, Any]:
        """The counts and the verdict."""
        return {**asdict(self), "ok": self.ok}

    def lines(self) -> list[str]:
        """The counts for a terminal, then a few ids per failed check."""
        counts = {k: v for k, v in asdict(self).items() if k not in {"settled", "examples"}}
        quiet = "" if self.settled else " (NOT quiescent)"
        out = [f"  reconciliation{quiet}: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
        out += [f"    {check}: {', '.join(ids)}" for check, ids in self.examples.items()]
        return out


async def tally(database_url: str) -> LogTally:
    """Read the whole log once."""
    engines = create_engines(database_url)
    found = LogTally()
    try:
        async for page in pages(engines):
            for row in page:
                found.feed(row)
    finally:
        await engines.dispose()
    return found


async def wait_settled(database_url: str, acked_wamids: Collection[str], timeout: float) -> bool:  # noqa: ASYNC109 - a bounded wait for quiescence
    """Poll the log until :meth:`LogTally.settled`; False when ``timeout`` ran out first."""
    deadline = time.monotonic() + timeout
    while True:
        if (await tally(database_url)).settled(acked_wamids):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)


async def reconcile(
    database_url: str, acked: dict[str, Delivery], graph: ObservedGraph | None, *, settled: bool
) -> Reconciliation:
    """Compare ``acked`` (by body SHA-256) and ``graph``'s sends with the log."""
    log = await tally(database_url)
    wamids = {w for d in acked.values() for w in d.wamids}
    accepted = graph.accepted_by_id() if graph is not None else Counter()
    requested = graph.requested_by_id() if graph is not None else Counter()
    delivered = log.sent | {oid for oid, n in accepted.items() if n}
    return Reconciliation(
        acked_deliveries=len(acked),
        recorded_deliveries=len(log.bodies),
        lost=sum(1 for sha in acked if sha not in log.bodies),
        double_recorded=sum(1 for n in log.bodies.values() if n > 1),
        acked_messages=len(wamids),
        messages_missing=sum(1 for w in wamids if w not in log.wamids),
        messages_doubled=sum(1 for n in log.wamids.values() if n > 1),
        unprocessed=sum(1 for m in log.message_ids if m not in log.covered),
        processed_twice=sum(1 for n in log.covered.values() if n > 1),
        statuses_recorded=log.statuses,
        replies_queued=len(log.queued),
        replies_sent=len(log.queued & delivered),
        replies_unknown=len((log.queued & log.unknown) - delivered),
        replies_failed=len(log.queued & log.failed - delivered),
        replies_unsent=len(log.queued - delivered - log.unknown - log.failed),
        duplicate_sends=sum(n - 1 for n in accepted.values() if n > 1),
        send_requests_repeated=sum(n - 1 for n in requested.values() if n > 1),
        parked=len(log.parked),
        settled=settled,
        events=log.events,
        examples=_examples(log, acked, wamids, delivered, accepted),
    )


def _examples(
    log: LogTally,
    acked: dict[str, Delivery],
    wamids: set[str],
    delivered: set[str],
    accepted: Counter[str],
) -> dict[str, list[str]]:
    """Up to five ids for each check that failed, to start the investigation from."""
    found = {
        "lost": [sha for sha in acked if sha not in log.bodies],
        "double_recorded": [sha for sha, n in log.bodies.items() if n > 1],
        "messages_missing": [w for w in wamids if w not in log.wamids],
        "messages_doubled": [w for w, n in log.wamids.items() if n > 1],
        "unprocessed": [m for m in log.message_ids if m not in log.covered],
        "processed_twice": [m for m, n in log.covered.items() if n > 1],
        "replies_unsent": [
            f"{oid} ({log.where[oid]})" for oid in log.queued - delivered - log.unknown - log.failed
        ],
        "replies_failed": [f"{oid} ({log.where[oid]})" for oid in log.queued & log.failed],
        "duplicate_sends": [oid for oid, n in accepted.items() if n > 1],
        "parked": log.parked,
    }
    return {check: ids[:5] for check, ids in found.items() if ids}
