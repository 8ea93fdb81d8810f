"""Percentiles, and the assistant's latency over its last understood turns."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.store.schema import events

LATENCY_SAMPLE = 200  # recent understood turns the percentiles are taken over


async def assistant_latency(conn: AsyncConnection) -> tuple[float | None, float | None]:
    """p50 and p95 of the assistant's latency over the last understood turns (not cached)."""
    stmt = (
        select(events.c.data)
        .where(events.c.type == "conversation.message_understood")
        .order_by(events.c.position.desc())
        .limit(LATENCY_SAMPLE)
    )
    samples: list[int] = []
    for (data,) in await conn.execute(stmt):
        trace = json.loads(data).get("trace") or {}
        if not trace.get("cached") and isinstance(trace.get("latency_ms"), int):
            samples.append(trace["latency_ms"])
    return percentile(samples, 50), percentile(samples, 95)


def percentile(samples: Sequence[float], pct: int) -> float | None:
    """The ``pct`` percentile (nearest rank), None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, -(-pct * len(ordered) // 100))
    return float(ordered[rank - 1])
