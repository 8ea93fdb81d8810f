"""``python -m scripts.bench_ops``: replay and audit timings on SQLite and PostgreSQL.

* ``replay``: one conversation of ``--replay-events`` events (default 10,000; goal under
  200 ms), read, decoded, folded through ``evolve`` and the conversations projection, and
  compared with its row. The median of ``--replay-runs`` runs (default 5) is reported.
* ``audit``: a log of ``--events`` events (default 100,000; 1,000,000 when asked) spread
  over conversations as real traffic is (delivery, message, understanding, reply, attempt,
  sent, turn marker), projected and sealed first, then audited once.

Events are appended in bulk (1,000 per transaction); seeding and the projections'
catch-up are not timed. SQLite uses a temporary file; PostgreSQL a fresh schema of the
``test`` database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.ops.audit import audit
from adapters.ops.hashchain import seal
from adapters.ops.replay import replay
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import runner_for
from adapters.store.event_store import EventStore
from adapters.store.types import AppendRequest, Expect
from events.base import Metadata, NewEvent
from events.conversation import (
    AssistantTraceRecord,
    MessageUnderstood,
    OutboundSent,
    ReplyKind,
    ReplyQueued,
)
from events.engine import TurnProcessed
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived, WebhookReceived
from scripts.bench_rebuild import fresh_store, reachable_backends

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REPLAY_GOAL_MS = 200.0
CHUNK = 1000
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TRACE = AssistantTraceRecord(engine="offline", model=None, prompt_version="offline-1", latency_ms=3)


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure."""

    backend: str
    phase: str  # replay | audit
    events: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process only: steadier than wall time on a busy machine
    goal_ms: float | None
    met: bool | None
    findings: int | None = None


def turn(stream: str, n: int, phone: str) -> Iterator[tuple[str, NewEvent]]:
    """One customer turn as the service records it: 7 events, 6 in the conversation."""
    at = START + timedelta(seconds=n)
    wamid = f"wamid.BENCH{uuid.uuid5(uuid.NAMESPACE_URL, f'{stream}:{n}').hex}"
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
        {"field": "messages", "value": {"messages": [
            {"from": phone[1:], "id": wamid, "type": "text", "text": {"body": "Vorrei"}}
        ]}}]}]})  # fmt: skip
    digest = hashlib.sha256(body.encode()).hexdigest()
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"out:{wamid}"))
    received = WebhookReceived(
        body=body, body_b64=None, body_sha256=digest, content_type="application/json",
        received_at=at,
    )  # fmt: skip
    message = MessageReceived(
        wamid=wamid, wa_id=phone[1:], phone=phone, bsuid=None, kind="text",
        text="Vorrei 2 crocchette per cane", sent_at=at,
    )  # fmt: skip
    payloads: list[tuple[str, Any]] = [
        (f"delivery-{digest[:32]}", received),
        (stream, message),
        (stream, MessageUnderstood(wamids=(wamid,), intent="general_chat", confidence=0.8,
                                   trace=TRACE)),
        (stream, ReplyQueued(outbound_id=oid, to=phone, kind=ReplyKind.TEXT, text="Ciao!",
                             in_reply_to=wamid)),
        (stream, OutboundAttempted(outbound_id=oid, attempt=1)),
        (stream, OutboundSent(outbound_id=oid, wamid=f"wamid.OUT{n}")),
        (stream, TurnProcessed(fact_ids=(str(uuid.uuid4()),), decisions=1)),
    ]  # fmt: skip
    for name, payload in payloads:
        yield name, NewEvent(event_id=uuid.uuid4(), payload=payload, metadata=Metadata())


async def seed(store: EventStore, total: int, conversations: int) -> str:
    """About ``total`` events over ``conversations`` streams; returns the first stream."""
    phones = [f"+3932{i:08d}" for i in range(conversations)]
    # Named by person id, so their personal fields are sealed as the service's are.
    streams = [await store.people.stream_of(f"conversation-{p}") for p in phones]
    pending: list[list[AppendRequest]] = []  # one unit per turn, as a delivery is one
    written, n = 0, 0
    while written < total:
        stream, phone = streams[n % conversations], phones[n % conversations]
        pending.append(
            [AppendRequest(name, Expect.ANY, [new]) for name, new in turn(stream, n, phone)]
        )
        written += 7
        n += 1
        if len(pending) * 7 >= CHUNK:
            await _commit(store, pending)
            pending = []
    await _commit(store, pending)
    for projection in all_projections():
        await runner_for(store, projection, batch_size=5000).catch_up()
    await seal(store)
    return streams[0]


async def _commit(store: EventStore, units: list[list[AppendRequest]]) -> None:
    for outcome in await store.commit_units(units) if units else []:
        if isinstance(outcome, BaseException):
            raise outcome


async def bench_replay(backend: str, store: EventStore, events: int, runs: int = 5) -> Result:
    """Median of ``runs`` replays of one conversation of about ``events`` events."""
    stream = await seed(store, events * 7 // 6, 1)
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = await replay(store, stream)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    median = statistics.median(times)
    met = median * 1000 < REPLAY_GOAL_MS and not result.differences
    return Result(
        backend, "replay", len(result.steps), median, statistics.median(cpu), REPLAY_GOAL_MS, met
    )


async def bench_audit(backend: str, store: EventStore, events: int) -> Result:
    """One audit of a log of about ``events`` events over many conversations."""
    await seed(store, events, max(1, events // 70))
    started, cpu_started = time.perf_counter(), time.process_time()
    report = await audit(store, grace=timedelta(0))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Result(backend, "audit", report.events, seconds, cpu, None, None, len(report.findings))


async def run(args: argparse.Namespace) -> tuple[list[Result], list[str]]:
    """Both phases on every reachable backend."""
    results: list[Result] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dloop-bench-ops-") as tmp:
        for backend in await reachable_backends(args.backends, args.pg_url, notes):
            async with fresh_store(backend, Path(tmp), args.pg_url, "bench_ops") as store:
                results.append(
                    await bench_replay(backend, store, args.replay_events, args.replay_runs)
                )
            async with fresh_store(backend, Path(tmp), args.pg_url, "bench_ops") as store:
                results.append(await bench_audit(backend, store, args.events))
    return results, notes


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="bench ops", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="audit log size")
    parser.add_argument("--replay-events", type=int, default=10_000, help="replay stream size")
    parser.add_argument("--replay-runs", type=int, default=5, help="replays timed (median)")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def render(results: list[Result]) -> str:
    """A Markdown table of the results."""
    lines = [
        "| backend | phase | events | time | CPU (this process) | rate | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        rate = r.events / r.seconds if r.seconds else 0.0
        goal = "-" if r.goal_ms is None else f"< {r.goal_ms:g} ms {'met' if r.met else 'MISSED'}"
        if r.findings:
            goal = f"{r.findings} FINDINGS"
        lines.append(
            f"| {r.backend} | {r.phase} | {r.events:,} | {r.seconds * 1000:,.0f} ms"
            f" | {r.cpu_seconds * 1000:,.0f} ms | {rate:,.0f} events/s | {goal} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON); 1 when a goal is missed."""
    args = build_parser().parse_args(argv)
    if args.events < 7 or args.replay_events < 7:
        print("bench ops: --events and --replay-events must be at least 7", file=sys.stderr)
        return 2
    results, notes = asyncio.run(run(args))
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results]}, indent=2))
    else:
        print(render(results))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    failed = any(r.met is False or r.findings for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
