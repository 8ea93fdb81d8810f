"""``dloop-bot bench partitions``: the log-following work per worker, 1 vs 2 workers.

On a fresh PostgreSQL database (dropped afterwards) it writes ``--events`` realistic
events (:mod:`scripts.synthetic_log`), then follows the whole log with a reactor
dispatcher whose handler does nothing, so what is measured is the reading, decoding and
dispatching a worker does:

* ``whole log``: the dispatcher as on SQLite, every event (the baseline of this run);
* ``1 worker``: partitioned, one worker holding all partitions;
* ``2 workers``: two workers holding 8 partitions each (advisory locks, as in service);
  each follows its share alone, one after the other, so each one's CPU time is its own.

Reported per worker: events read from the database and the process CPU time (user +
system, the median of ``--repeat`` runs), with the ratio to the whole-log baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.engine.dispatch import DispatchOptions, StreamDispatcher
from adapters.engine.partitions import PartitionOwner
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from events.base import RecordedEvent
from scripts.bench_e2e import drop_database, fresh_database
from scripts.synthetic_log import write_log


@dataclass(frozen=True, slots=True)
class Row:
    """One worker's figures in one setup."""

    setup: str
    worker: str
    events_read: int
    cpu_ms: float

    def line(self, base: Row) -> str:
        """The row for a terminal, with its ratios to the baseline."""
        return (
            f"{self.setup:10} {self.worker:9} events read {self.events_read:>7}"
            f" (x{self.events_read / base.events_read:.2f}),"
            f" CPU {self.cpu_ms:8.1f} ms (x{self.cpu_ms / base.cpu_ms:.2f})"
        )


async def _nothing(_stream: str, _events: Sequence[RecordedEvent]) -> None:
    """The handler: the work measured is the following, not the turn."""


async def _follow(store: EventStore, name: str, owner: PartitionOwner | None) -> tuple[int, float]:
    """Follow the log from the start under ``name``: (events read, CPU ms)."""
    options = DispatchOptions(concurrency=512, batch_size=1000, max_pending=1_000_000)
    dispatcher = StreamDispatcher(store, name, lambda _e: True, _nothing, options)
    if owner is not None:
        dispatcher.follow_partitions(owner)
    started = time.process_time()
    await dispatcher.run_until_idle()
    cpu = (time.process_time() - started) * 1000
    read = dispatcher.feed.read_events if dispatcher.feed is not None else dispatcher.handled
    return read, cpu


async def _measure(store: EventStore, repeat: int) -> list[Row]:
    rows: list[Row] = []
    runs = [await _follow(store, f"bench-all-{i}", None) for i in range(repeat)]
    rows.append(_row("whole log", "-", runs))
    alone = PartitionOwner(store.engines.writer, await store.partition_count())
    await alone.rebalance()
    runs = [await _follow(store, f"bench-one-{i}", alone) for i in range(repeat)]
    rows.append(_row("1 worker", "a (16)", runs))
    await alone.stop()
    a = PartitionOwner(store.engines.writer, alone.count)
    b = PartitionOwner(store.engines.writer, alone.count)
    for owner in (a, b, a, b):
        await owner.rebalance()
    for label, owner in (("a", a), ("b", b)):
        runs = [await _follow(store, f"bench-two-{label}-{i}", owner) for i in range(repeat)]
        rows.append(_row("2 workers", f"{label} ({len(owner.owned())})", runs))
    await a.stop()
    await b.stop()
    return rows


def _row(setup: str, worker: str, runs: list[tuple[int, float]]) -> Row:
    return Row(setup, worker, runs[0][0], statistics.median(cpu for _, cpu in runs))


async def _main(events: int, repeat: int) -> int:
    url = await fresh_database()
    engines = create_engines(url)
    try:
        store = EventStore(engines)
        written = await write_log(store, events)
        print(f"bench partitions: {written} events on PostgreSQL, median of {repeat} runs")
        rows = await _measure(store, repeat)
    finally:
        await engines.dispose()
        await drop_database(url)
    for row in rows:
        print(row.line(rows[0]))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench partitions", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events in the log")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setup (median)")
    args = parser.parse_args(argv)
    if args.events < 1000 or args.repeat < 1:
        parser.error("--events must be at least 1000 and --repeat at least 1")
    return asyncio.run(_main(args.events, args.repeat))
