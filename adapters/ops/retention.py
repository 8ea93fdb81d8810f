"""``dloop-bot retention``: drop raw webhook bodies older than the retention, keep the facts.

The one documented exception to "events are immutable" (docs/operations.md): a
``whatsapp.webhook_received`` row older than the retention is rewritten with ``body`` set
to ``""`` and ``body_b64`` to null. Everything else stays: ``body_sha256`` (which still
proves what the body was), the content type, the receive time, and every fact parsed
from the body, in its own events. The row still decodes with the shipped event class.

Per batch, a :class:`~events.ops.RawBodyDropped` naming the rows is appended to the
``ops-retention`` stream *before* they are rewritten, so the log always says which bodies
are gone and since when; a crash in between leaves announced bodies still present, which
the next run drops (the announcement's id is derived from its rows, so it is not repeated).
Audit accepts an empty body only for rows so announced, and the hash chain leaves bodies
out of the chained data, so neither reports the rewrite as tampering.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text

from adapters.progress import Progress, silent
from adapters.store.event_store import EventStore
from adapters.store.schema import UtcDateTime
from adapters.store.types import Expect
from events.base import Metadata, NewEvent
from events.codec import SEALED
from events.ops import RawBodyDropped
from events.whatsapp import WebhookReceived

STREAM = "ops-retention"
DEFAULT_DAYS = 90
RETENTION_NAMESPACE = uuid.UUID("8a4f1c2e-7d3b-4e9a-b6c5-0f2e1d3c4b5a")
_CANDIDATES = text(
    "SELECT position, event_id, data FROM events WHERE type = :type AND recorded_at < :cutoff"
    " AND position > :after ORDER BY position LIMIT :limit"
).bindparams(bindparam("cutoff", type_=UtcDateTime()))
_REWRITE = text("UPDATE events SET data = :data WHERE position = :position")
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class RetentionReport:
    """What a run found and did."""

    days: int
    older_than: datetime
    dry_run: bool
    bodies: int = 0  # bodies older than the retention still held (dropped unless dry run)
    bytes: int = 0
    batches: int = 0
    positions: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` output."""
        return {
            "days": self.days,
            "older_than": self.older_than.isoformat(),
            "dry_run": self.dry_run,
            "bodies": self.bodies,
            "bytes": self.bytes,
            "batches": self.batches,
        }

    def line(self) -> str:
        """One line for a terminal."""
        verb = "would drop" if self.dry_run else "dropped"
        return (
            f"retention {self.days} days (before {self.older_than:%Y-%m-%d %H:%M} UTC):"
            f" {verb} {self.bodies} raw bodies, {self.bytes:,} bytes, in {self.batches} batch(es)"
        )


@dataclass(frozen=True, slots=True)
class _Candidate:
    position: int
    event_id: str
    data: dict[str, Any]
    size: int


async def drop_raw_bodies(
    store: EventStore,
    *,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Progress = silent,
) -> RetentionReport:
    """Drop (or with ``dry_run`` count) the bodies recorded more than ``days`` ago.

    ``progress`` hears the position scanned so far, out of the last position.
    """
    if days < 1:
        raise ValueError("the retention must be at least 1 day")
    moment = now or datetime.now(UTC)
    report = RetentionReport(days=days, older_than=moment - timedelta(days=days), dry_run=dry_run)
    after = 0
    last = await store.last_position()
    while True:
        scanned, batch = await _candidates(store, report.older_than, after, batch_size)
        if not scanned:
            return report
        after = scanned
        progress(min(scanned, last), last)
        if not batch:
            continue
        report.bodies += len(batch)
        report.bytes += sum(c.size for c in batch)
        report.batches += 1
        report.positions += [c.position for c in batch]
        if not dry_run:
            await _drop(store, batch, report, moment)


def _without_body(data: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in data.items() if k != SEALED}
    return {**kept, "body": "", "body_b64": None}


async def _candidates(
    store: EventStore, cutoff: datetime, after: int, limit: int
) -> tuple[int, list[_Candidate]]:
    """(last position scanned, the rows of that page that still hold a body)."""
    params = {"type": WebhookReceived.TYPE, "cutoff": cutoff, "after": after, "limit": limit}
    async with store.engines.reader.connect() as conn:
        rows = (await conn.execute(_CANDIDATES, params)).all()
    found = []
    for position, event_id, data in rows:
        doc = json.loads(data)
        size = len((doc.get("body") or "").encode("utf-8")) + len(doc.get("body_b64") or "")
        sealed = doc.get(SEALED)  # the body sealed for the people it names (ADR 0007)
        size += len(sealed.get("c") or "") if isinstance(sealed, dict) else 0
        if size:
            found.append(_Candidate(int(position), str(uuid.UUID(str(event_id))), doc, size))
    return (int(rows[-1][0]) if rows else 0), found


async def _drop(
    store: EventStore, batch: list[_Candidate], report: RetentionReport, now: datetime
) -> None:
    ids = tuple(c.event_id for c in batch)
    announced = RawBodyDropped(
        event_ids=ids,
        positions=tuple(c.position for c in batch),
        retention_days=report.days,
        older_than=report.older_than,
        dropped_at=now,
        bytes_dropped=sum(c.size for c in batch),
    )
    event_id = uuid.uuid5(RETENTION_NAMESPACE, ",".join(ids))
    metadata = Metadata(source="cli:retention")
    await store.append(STREAM, Expect.ANY, [NewEvent(event_id=event_id, payload=announced,
                                                     metadata=metadata)])  # fmt: skip
    rewrites = [
        {"position": c.position, "data": _JSON.encode(_without_body(c.data))} for c in batch
    ]
    async with store.engines.writer.begin() as conn:
        await conn.execute(_REWRITE, rewrites)
