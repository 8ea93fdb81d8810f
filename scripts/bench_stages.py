"""Where a benchmarked turn waited: per-stage gaps read back from the run's event log.

A turn leaves a trail in its conversation stream, each event with the time it was
recorded: the customer's ``whatsapp.message_received``, the turn's events appended
together (``conversation.message_understood`` first), ``outbox.attempted`` when the
outbox took the reply, ``conversation.outbound_sent`` when Meta (the fake) accepted it.
The gaps between them, over every turn of the run, say which stage a saturated service
queues in:

* ``turn``: message recorded to the turn appended (the assistant call is inside it);
* ``to outbox``: turn appended to the send attempt (the outbox's queue and pacing);
* ``send``: attempt to ``OutboundSent`` (the HTTP send and its append).

Events appended in one group commit share their time, so gaps under a few milliseconds
are not resolved; the stages are for the queues of seconds that saturation builds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select

from adapters.store.engine import create_engines
from adapters.store.schema import events

# (stage, the event that opens it, the event that closes it)
STAGES = (
    ("turn", "whatsapp.message_received", "conversation.message_understood"),
    ("to outbox", "engine.turn_processed", "outbox.attempted"),
    ("send", "outbox.attempted", "conversation.outbound_sent"),
)
Row = tuple[str, str, datetime]  # stream, event type, recorded_at (in position order)


def stage_gaps(rows: Iterable[Row]) -> dict[str, list[float]]:
    """Seconds from each stage's opening event to the next closing one in the same stream."""
    opened: dict[tuple[str, str], datetime] = {}  # (stream, stage) -> when it opened
    gaps: dict[str, list[float]] = {name: [] for name, _, _ in STAGES}
    for stream, kind, at in rows:
        for name, start, end in STAGES:
            if kind == end and (stream, name) in opened:
                gaps[name].append((at - opened.pop((stream, name))).total_seconds())
            if kind == start:
                opened.setdefault((stream, name), at)
    return gaps


def percentiles(gaps: Mapping[str, list[float]]) -> dict[str, tuple[float, float]]:
    """(p50, p99) in seconds per stage with at least two gaps."""
    out = {}
    for name, values in gaps.items():
        if len(values) > 1:
            cuts = statistics.quantiles(values, n=100, method="inclusive")
            out[name] = (round(cuts[49], 3), round(cuts[98], 3))
    return out


def render(stages: Mapping[str, tuple[float, float]]) -> str:
    """One line: each stage's p50 / p99 in milliseconds."""
    parts = [
        f"{name} {p50 * 1000:.0f} / {p99 * 1000:.0f} ms" for name, (p50, p99) in stages.items()
    ]
    return "stages p50 / p99: " + ", ".join(parts)


async def read_stages(database_url: str) -> dict[str, tuple[float, float]]:
    """The stage percentiles of every conversation stream in ``database_url``."""
    engines = create_engines(database_url)
    try:
        c = events.c
        stmt = (
            select(c.stream, c.type, c.recorded_at)
            .where(c.stream.like("conversation-%"))
            .order_by(c.position)
        )
        async with engines.reader.connect() as conn:
            rows = [(str(s), str(t), at) for s, t, at in await conn.execute(stmt)]
    finally:
        await engines.dispose()
    return percentiles(stage_gaps(rows))
