"""``dloop-bot bench rebuild``: rebuild every projection from a large synthetic log.

Per backend (a temporary SQLite file, or a fresh PostgreSQL schema in ``test`` dropped
afterwards):

* ``generate``: ``--events`` realistic events (:mod:`scripts.synthetic_log`: turns with
  webhooks, understanding, replies sent / delivered / read, orders, a few escalations and
  failed sends) written through the store's bulk path;
* ``rebuild``: :func:`~adapters.readmodel.runner.rebuild_all` over that log, all
  projections in one pass (what ``dloop-bot rebuild`` runs); events per second;
* baseline, same invocation, on a smaller log (``--baseline-events``): the per-projection
  runners (one pass per projection, rows read and written one by one: the rebuild path
  before this benchmark) against ``rebuild_all`` on the same log, with a check that both
  give identical tables.

Goal (issue 7): at least 20,000 events/s on SQLite. Exit status 1 when it is missed or the
tables differ. ``--profile FILE`` writes a cProfile of the SQLite rebuild.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import REBUILD_CHUNK, rebuild_all, runner_for
from adapters.readmodel.tables import TABLES
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from scripts.synthetic_log import write_log

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
GOAL = 20_000.0  # events/s on SQLite


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure."""

    backend: str
    phase: str  # generate | rebuild | baseline: per-projection | baseline: rebuild_all
    events: int
    seconds: float
    cpu_seconds: float  # this process (both threads): steadier than wall time on a busy box
    rows: int | None = None
    goal: float | None = None
    identical: bool | None = None

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        """Events per CPU second of this process."""
        return self.events / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def met(self) -> bool | None:
        """Whether the goal is met (None without a goal)."""
        return None if self.goal is None else self.rate >= self.goal


@asynccontextmanager
async def fresh_store(
    backend: str, tmp: Path, pg_url: str, prefix: str = "bench_rebuild"
) -> AsyncIterator[EventStore]:
    """An empty, migrated store on ``backend`` (a SQLite file or a PostgreSQL schema named
    ``prefix_<random>``); removed afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engines: Engines
    if backend == "sqlite":
        engines = create_engines(f"sqlite+aiosqlite:///{tmp}/{schema}.db")
    else:
        await pg_execute(pg_url, f'CREATE SCHEMA "{schema}"')
        engines = create_engines(pg_url, pg_schema=schema)
    try:
        await migrate(engines)
        yield EventStore(engines)
    finally:
        await engines.dispose()
        if backend == "postgres":
            await pg_execute(pg_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def reachable_backends(spec: str, pg_url: str, notes: list[str]) -> list[str]:
    """The backends of ``spec`` (``sqlite,postgres``) that answer; a note for the others."""
    backends = []
    for backend in [b.strip() for b in spec.split(",") if b.strip()]:
        if backend == "postgres":
            try:
                await pg_execute(pg_url, "SELECT 1")
            except (OSError, asyncpg.PostgresError) as exc:
                notes.append(f"PostgreSQL skipped: {exc}")
                continue
        backends.append(backend)
    return backends


async def pg_execute(pg_url: str, sql: str) -> None:
    """Run one statement on the PostgreSQL server of ``pg_url``."""
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def tables(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    """Every projection table, rows sorted by primary key."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with store.engines.reader.connect() as conn:
        for projection in all_projections():
            for name in projection.tables:
                table = TABLES[name]
                stmt = select(table).order_by(*table.primary_key.columns)
                out[name] = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    return out


async def bench_big(
    backend: str, store: EventStore, events: int, chunk: int, profile: Path | None
) -> list[Result]:
    """Generate ``events`` and rebuild every projection from them."""
    started, cpu = time.perf_counter(), time.process_time()
    written = await write_log(store, events)
    generated = Result(
        backend, "generate", written, time.perf_counter() - started, time.process_time() - cpu
    )
    profiler = cProfile.Profile() if profile is not None and backend == "sqlite" else None
    if profiler is not None:
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    reports = await rebuild_all(store, all_projections(), chunk=chunk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    rows = sum(r.rows for r in reports)
    goal = GOAL if backend == "sqlite" else None
    return [generated, Result(backend, "rebuild", written, seconds, cpu, rows, goal)]


async def bench_baseline(backend: str, store: EventStore, events: int) -> list[Result]:
    """Per-projection runners against ``rebuild_all`` on the same small log."""
    written = await write_log(store, events, seed=11)
    started, cpu = time.perf_counter(), time.process_time()
    for projection in all_projections():
        await runner_for(store, projection, batch_size=2000).catch_up()
    old_seconds, old_cpu = time.perf_counter() - started, time.process_time() - cpu
    before = await tables(store)
    started, cpu = time.perf_counter(), time.process_time()
    reports = await rebuild_all(store, all_projections())
    new_seconds, new_cpu = time.perf_counter() - started, time.process_time() - cpu
    same = await tables(store) == before
    rows = sum(r.rows for r in reports)
    return [
        Result(backend, "baseline: per-projection runners", written, old_seconds, old_cpu, rows),
        Result(
            backend, "baseline: rebuild_all", written, new_seconds, new_cpu, rows, identical=same
        ),
    ]


async def run(args: argparse.Namespace) -> tuple[list[Result], list[str]]:
    """Every phase on every reachable backend."""
    results: list[Result] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dloop-bench-rebuild-") as tmp:
        for backend in await reachable_backends(args.backends, args.pg_url, notes):
            if args.baseline_events:
                async with fresh_store(backend, Path(tmp), args.pg_url) as store:
                    results += await bench_baseline(backend, store, args.baseline_events)
            async with fresh_store(backend, Path(tmp), args.pg_url) as store:
                results += await bench_big(backend, store, args.events, args.chunk, args.profile)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes.append(f"peak RSS of this process: {peak:,.0f} MiB")
    return results, notes


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="bench rebuild", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the log")
    parser.add_argument(
        "--baseline-events", type=int, default=20_000, help="baseline log size (0: skip)"
    )
    parser.add_argument("--chunk", type=int, default=REBUILD_CHUNK, help="events per chunk")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to use")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the SQLite rebuild")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def render(results: list[Result]) -> str:
    """A Markdown table of the results."""
    lines = [
        "| backend | phase | events | rows | time | rate | per CPU second | goal |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        goal = "-" if r.goal is None else f">= {r.goal:,.0f}/s {'met' if r.met else 'MISSED'}"
        if r.identical is not None:
            goal = "tables identical" if r.identical else "TABLES DIFFER"
        rows = "-" if r.rows is None else f"{r.rows:,}"
        lines.append(
            f"| {r.backend} | {r.phase} | {r.events:,} | {rows} | {r.seconds:,.2f} s"
            f" | {r.rate:,.0f} events/s | {r.cpu_rate:,.0f} events/s | {goal} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON); 1 when the goal is missed."""
    args = build_parser().parse_args(argv)
    if args.events < 1 or args.baseline_events < 0 or args.chunk < 1:
        print("bench rebuild: --events and --chunk must be positive", file=sys.stderr)
        return 2
    results, notes = asyncio.run(run(args))
    if args.json:
        rows = [
            {**asdict(r), "rate": r.rate, "cpu_rate": r.cpu_rate, "met": r.met} for r in results
        ]
        print(json.dumps({"results": rows, "notes": notes}, indent=2))
    else:
        print(render(results))
        by_backend = {
            r.backend: r for r in results if r.phase == "baseline: per-projection runners"
        }
        for r in results:
            if r.phase == "baseline: rebuild_all" and r.backend in by_backend:
                ratio = r.rate / by_backend[r.backend].rate if by_backend[r.backend].rate else 0
                print(f"{r.backend}: rebuild_all / per-projection runners = {ratio:.1f}x")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    failed = any(r.met is False or r.identical is False for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
