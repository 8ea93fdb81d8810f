"""The overview page's series: orders, turns, latency, failures and agents over time.

Everything is bucketed in Python by UTC hour (the last ``hours``) or UTC day (the last
``days``), so SQLite and PostgreSQL give the same answer. Rows come from the read tables
(orders by the hour they were confirmed, grouped by the stage they are in now; failed
sends; review items) and, for what only the log records, from the events table by type
(``ix_events_type``), newest first and at most :data:`EVENT_CAP` rows per series:

* turns: ``conversation.message_understood`` (one per answered turn);
* assistant latency: the same events' ``trace.latency_ms`` (cache hits left out);
* agent response time: from ``conversation.escalated`` to the next reply an agent wrote
  in that conversation (``conversation.reply_queued`` with ``sender`` agent), in minutes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.percentiles import percentile
from adapters.readmodel.tables import review_queue, whatsapp_messages
from adapters.readmodel.tables import whatsapp_order_relays as relays
from adapters.store.schema import events

EVENT_CAP = 20_000
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


class Buckets:
    """``count`` time slots of ``size`` ending with the one holding ``now``."""

    def __init__(self, now: datetime, size: timedelta, count: int) -> None:
        start = now.replace(minute=0, second=0, microsecond=0)
        if size == DAY:
            start = start.replace(hour=0)
        self.size, self.count = size, count
        self.first = start - size * (count - 1)

    def labels(self) -> list[str]:
        """The slots' start times (ISO 8601, UTC)."""
        return [(self.first + self.size * i).isoformat() for i in range(self.count)]

    def index(self, when: datetime | None) -> int | None:
        """The slot of ``when``, None outside the window."""
        if when is None or when < self.first:
            return None
        i = int((when - self.first) / self.size)
        return i if i < self.count else None

    def tally(self, times: Iterable[datetime | None]) -> list[int]:
        """How many of ``times`` fall in each slot."""
        counts = [0] * self.count
        for when in times:
            i = self.index(when)
            if i is not None:
                counts[i] += 1
        return counts

    def spread(self, samples: Iterable[tuple[datetime, float]], pct: int) -> list[float | None]:
        """The ``pct`` percentile of the samples in each slot (None where there are none)."""
        per: dict[int, list[float]] = defaultdict(list)
        for when, value in samples:
            i = self.index(when)
            if i is not None:
                per[i].append(value)
        return [percentile(per.get(i, []), pct) for i in range(self.count)]


async def overview(conn: AsyncConnection, now: datetime, hours: int, days: int) -> dict[str, Any]:
    """Every series of the overview page (see the module docstring)."""
    hourly, daily = Buckets(now, HOUR, hours), Buckets(now, DAY, days)
    orders = await _orders(conn, daily.first)
    turns = await _events(conn, "conversation.message_understood", hourly.first)
    latencies = [(at, ms) for at, data in turns if (ms := _latency(data)) is not None]
    answers = await _agent_answers(conn, daily.first)
    return {
        "now": now.isoformat(),
        "hours": hourly.labels(),
        "days": daily.labels(),
        "orders_per_hour": _by_stage(hourly, orders),
        "orders_per_day": _by_stage(daily, orders),
        "turns_per_hour": hourly.tally(at for at, _ in turns),
        "assistant_latency_ms": {
            "p50": hourly.spread(latencies, 50),
            "p95": hourly.spread(latencies, 95),
        },
        "failed_sends_per_day": daily.tally(await _failed_sends(conn, daily.first)),
        "review_items_per_day": daily.tally(await _review_items(conn, daily.first)),
        "agent_response_minutes": {
            "p50": daily.spread(answers, 50),
            "p95": daily.spread(answers, 95),
        },
    }


def _by_stage(buckets: Buckets, orders: list[tuple[datetime, str]]) -> dict[str, list[int]]:
    stages = sorted({stage for _, stage in orders})
    return {s: buckets.tally(at for at, stage in orders if stage == s) for s in stages}


async def _orders(conn: AsyncConnection, since: datetime) -> list[tuple[datetime, str]]:
    r = relays.c
    stmt = select(r.confirmed_at, r.stage).where(r.confirmed_at >= since)
    return [(at, str(stage)) for at, stage in await conn.execute(stmt)]


async def _failed_sends(conn: AsyncConnection, since: datetime) -> list[datetime]:
    m = whatsapp_messages.c
    where = and_(m.direction == "outbound", m.status == "failed", m.updated_at >= since)
    return [at for (at,) in await conn.execute(select(m.updated_at).where(where))]


async def _review_items(conn: AsyncConnection, since: datetime) -> list[datetime]:
    q = review_queue.c
    return [at for (at,) in await conn.execute(select(q.created_at).where(q.created_at >= since))]


async def _events(
    conn: AsyncConnection, kind: str, since: datetime, *more: str
) -> list[tuple[datetime, dict[str, Any]]]:
    """``(recorded_at, data)`` of events of the given types since ``since``, oldest first."""
    e = events.c
    stmt = (
        select(e.recorded_at, e.data, e.stream, e.type)
        .where(e.type.in_((kind, *more)), e.recorded_at >= since)
        .order_by(e.position.desc())
        .limit(EVENT_CAP)
    )
    found = []
    for at, data, stream, type_ in await conn.execute(stmt):
        parsed = _parse(data)
        parsed["@stream"], parsed["@type"] = stream, type_
        found.append((at, parsed))
    found.reverse()
    return found


def _parse(data: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _latency(data: dict[str, Any]) -> float | None:
    trace = data.get("trace") or {}
    ms = trace.get("latency_ms")
    return None if trace.get("cached") or not isinstance(ms, int) else float(ms)


async def _agent_answers(conn: AsyncConnection, since: datetime) -> list[tuple[datetime, float]]:
    """``(answered at, minutes waited)`` from each escalation to the next agent reply."""
    found = await _events(conn, "conversation.escalated", since, "conversation.reply_queued")
    waiting: dict[str, datetime] = {}
    out: list[tuple[datetime, float]] = []
    for at, data in found:
        stream = str(data["@stream"])
        if data["@type"] == "conversation.escalated":
            waiting.setdefault(stream, at)
        elif data.get("sender") == "agent" and stream in waiting:
            asked = waiting.pop(stream)
            out.append((at, (at - asked).total_seconds() / 60))
    return out
