"""The ``snapshots`` audit check: no stored snapshot may differ from a fresh fold of the log.

Snapshots only save a cold start some reading; the log decides. For every conversation
snapshot with today's schema, the stream is folded afresh up to the snapshot's version
with the same function the reactor uses (:func:`core.turn_memory.remember`) and compared
with what is stored. A snapshot of an older schema is not wrong, only unused: it is
noted, and replaced the next time the conversation is loaded.
"""

from __future__ import annotations

from adapters.engine.conversation import start_memory
from adapters.engine.turn_snapshots import TURN_CODEC, turn_snapshots
from adapters.ops.findings import AuditReport
from adapters.store.event_store import EventStore
from core.turn_memory import remember_all


async def check_snapshots(store: EventStore, report: AuditReport) -> None:
    """Add a ``snapshots`` finding for every snapshot that differs from the log."""
    stale = 0
    for stream, version, value in await turn_snapshots(store.engines).all():
        if value is None:
            stale += 1
            continue
        events = await store.read_stream(stream)
        fresh = remember_all(start_memory(stream), (e for e in events if e.version <= version))
        if len(events) < version:
            report.add(
                "snapshots", f"{stream}: snapshot at version {version}, log at {len(events)}"
            )
        elif TURN_CODEC.to_stored(fresh) != TURN_CODEC.to_stored(value):
            report.add("snapshots", f"{stream}: snapshot at version {version} differs from the log")
    if stale:
        report.notes.append(f"{stale} snapshot(s) of an older schema: rebuilt when next used")
