"""``dloop-bot bench turns``: the cost of one turn against the length of the conversation.

For each history size (0, 1,000 and 5,000 prior events by default) a fresh store (SQLite
file, and PostgreSQL schema when reachable) gets one customer's conversation of that
length (real events of past turns: message, reply, marker, attempt, sent, delivered),
then the customer writes ``--turns`` more messages one after the other. Each turn is the
real pipeline in process: the message appended as ingestion does, the conversation
reactor (offline assistant, demo catalogue) and the outbox (sandbox messenger). Measured
per turn: CPU time of the process (user + system) and wall latency, after one warm-up
turn (the first turn after a start reads the whole stream once: shown apart as "first").

``--refold`` empties the kept memories before every turn, which is what every turn cost
before they existed: the same run shows both. Goal: the 5,000 row within 1.2x of the 0 row.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor
from adapters.engine.outbox import OutboxSender
from adapters.meta.sandbox import SandboxMessenger
from adapters.store.event_store import EventStore
from adapters.store.types import Expect
from events.base import NewEvent
from events.conversation import OutboundSent, ReplyKind, ReplyQueued
from events.engine import TurnProcessed
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived, StatusReceived
from scripts.bench_rebuild import PG_URL, fresh_store, reachable_backends

PHONE = "+393281234567"
GOAL = 1.2
TEXT = "Ciao! Come state oggi?"


@dataclass(frozen=True, slots=True)
class Row:
    """One history size on one backend: the per-turn figures."""

    backend: str
    mode: str  # kept | refold
    history: int
    first_ms: float  # the first turn after a start (reads the whole stream once)
    cpu_ms: float  # mean CPU per turn after it
    p50_ms: float
    p99_ms: float

    def line(self, base: Row | None) -> str:
        """The row for a terminal, with its ratio to the 0-event row."""
        ratio = "" if base is None or base.cpu_ms == 0 else f"  x{self.cpu_ms / base.cpu_ms:.2f}"
        return (
            f"{self.backend:8} {self.mode:6} history {self.history:>6}:"
            f" first {self.first_ms:7.1f} ms,"
            f" CPU {self.cpu_ms:6.2f} ms/turn, latency p50 {self.p50_ms:6.2f} ms"
            f" p99 {self.p99_ms:6.2f} ms{ratio}"
        )


def message(n: int, at: datetime) -> MessageReceived:
    """The customer's ``n``-th text."""
    return MessageReceived(
        wamid=f"wamid.bench.{uuid.uuid4().hex}.{n}", wa_id=PHONE[1:], phone=PHONE,
        bsuid=None, kind="text", text=TEXT, sent_at=at,
    )  # fmt: skip


def past_turn(n: int, at: datetime) -> list[NewEvent]:
    """Six events of one answered, delivered turn, as the service records them."""
    m = NewEvent(event_id=uuid.uuid4(), payload=message(n, at))
    oid = str(uuid.uuid4())
    wamid = f"wamid.out.{oid}"
    payloads = [
        ReplyQueued(outbound_id=oid, to=PHONE, kind=ReplyKind.TEXT, text="Come posso aiutarti?"),
        TurnProcessed(fact_ids=(str(m.event_id),), decisions=1),
        OutboundAttempted(outbound_id=oid, attempt=1),
        OutboundSent(outbound_id=oid, wamid=wamid),
        StatusReceived(
            wamid=wamid, status="delivered", recipient_id=PHONE[1:], phone=PHONE, bsuid=None,
            timestamp=at, biz_opaque_callback_data=oid,
        ),
    ]  # fmt: skip
    return [m, *(NewEvent(event_id=uuid.uuid4(), payload=p) for p in payloads)]


async def fill(store: EventStore, stream: str, events: int) -> None:
    """``events`` prior events (whole past turns) in ``stream``, in chunks."""
    start = datetime.now(UTC) - timedelta(days=30)
    batch: list[NewEvent] = []
    for n in range(events // 6):
        batch += past_turn(n, start + timedelta(seconds=n))
        if len(batch) >= 600:
            await store.append(stream, Expect.ANY, batch)
            batch = []
    if batch:
        await store.append(stream, Expect.ANY, batch)


async def one_turn(
    store: EventStore, stream: str, bot: ConversationReactor, outbox: OutboxSender, n: int
) -> None:
    """A new message, decided and answered."""
    fact = NewEvent(event_id=uuid.uuid4(), payload=message(n, datetime.now(UTC)))
    before = await store.stream_version(stream)
    await store.append(stream, Expect.ANY, [fact])
    await bot.handle(stream, [])
    await outbox.handle(stream, await store.read_stream(stream, after_version=before))


async def measure(backend: str, store: EventStore, history: int, turns: int, refold: bool) -> Row:
    """Fill the conversation, then time ``turns`` turns after one first turn."""
    stream = await store.people.stream_of(f"conversation-{PHONE}")
    await fill(store, stream, history)
    bot = ConversationReactor(store, OfflineAssistant(), lambda: load_catalog(None))
    outbox = OutboxSender(store, SandboxMessenger(), pair_interval=0.0)  # CPU, not pacing
    t0 = time.perf_counter()
    await one_turn(store, stream, bot, outbox, 0)
    first = (time.perf_counter() - t0) * 1000
    cpu0, walls = time.process_time(), []
    for n in range(1, turns + 1):
        if refold:
            bot.memory.clear()
            outbox.index.clear()
        t = time.perf_counter()
        await one_turn(store, stream, bot, outbox, n)
        walls.append((time.perf_counter() - t) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / turns
    walls.sort()
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    mode = "refold" if refold else "kept"
    return Row(backend, mode, history, first, cpu, statistics.median(walls), p99)


async def run(args: argparse.Namespace) -> int:
    """Every backend, size and mode; prints rows and the verdict."""
    notes: list[str] = []
    backends = await reachable_backends(args.backends, args.pg_url, notes)
    sizes = [int(s) for s in args.history.split(",")]
    modes = [False, True] if args.refold else [False]
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for refold in modes:
                base: Row | None = None
                for size in sizes:
                    async with fresh_store(backend, Path(tmp), args.pg_url, "bench_turns") as store:
                        row = await measure(backend, store, size, args.turns, refold)
                    base = base or row
                    print(row.line(base), flush=True)
                    if not refold and base.cpu_ms > 0:
                        worst = max(worst, row.cpu_ms / base.cpu_ms)
    for note in notes:
        print(note)
    ok = worst <= GOAL
    verdict = "met" if ok else "missed"
    print(f"largest history / empty CPU per turn: x{worst:.2f} (goal <= {GOAL}): {verdict}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``dloop-bot bench turns``."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench turns", description=__doc__)
    parser.add_argument("--history", default="0,1000,5000", help="prior events, comma-separated")
    parser.add_argument("--turns", type=int, default=200, help="measured turns per size")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "--refold", action="store_true", help="also run with memories emptied every turn"
    )
    return asyncio.run(run(parser.parse_args(argv)))
