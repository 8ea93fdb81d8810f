"""The event loop's CPU per group-committed unit on PostgreSQL, as the flood commits them.

``python -m scripts.bench_commit [--units N] [--producers P]``: a fresh schema in the
``test`` database, one :class:`GroupCommitter`, ``P`` producers each awaiting its
units one after another (a webhook's unit: one event to a new delivery stream, one to a
shared conversation stream with ``Expect.ANY``). After a warm-up of ``N`` units, the
process CPU time (one thread: the loop, plus asyncpg's work on it) over ``N`` more.
CPU time, not wall time, so that a shared machine's load moves it little.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg

from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.store.migrations import migrate
from adapters.store.types import AppendRequest, Expect
from scripts.bench_store import PG_URL, make_samples


async def _run(units: int, producers: int) -> str:
    schema = f"bench_commit_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    engines = create_engines(PG_URL, pg_schema=schema)
    try:
        await migrate(engines)
        committer = GroupCommitter(EventStore(engines))
        await committer.start()
        samples = make_samples(4 * units)

        async def produce(first: int, stop: int) -> None:
            for i in range(first, stop, producers):
                raw, fact = samples[2 * i], samples[2 * i + 1]
                await committer.append(
                    [
                        AppendRequest(raw.stream, Expect.NO_STREAM, [raw.ours]),
                        AppendRequest("conversation", Expect.ANY, [fact.ours]),
                    ]
                )

        await asyncio.gather(*(produce(k, units) for k in range(producers)))  # warm-up
        batches = committer.stats.batches
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(produce(units + k, 2 * units) for k in range(producers)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        batches = committer.stats.batches - batches
        await committer.close()
    finally:
        await engines.dispose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()
    return (
        f"{units} units in {batches} group commits ({units / batches:.1f} per commit):"
        f" {cpu * 1e6 / units:.0f} us CPU per unit, {cpu * 1e6 / batches:.0f} us per commit,"
        f" {units / wall:.0f} units/s"
    )


def main(argv: list[str] | None = None) -> int:
    """Print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--producers", type=int, default=8)
    args = parser.parse_args(argv)
    print(asyncio.run(_run(args.units, args.producers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
