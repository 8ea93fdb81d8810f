"""``dloop-bot bench api``: latency of the conversation list with 100,000 conversations.

Per backend (a temporary SQLite file, or a fresh PostgreSQL schema in ``test`` dropped
afterwards) the read table ``whatsapp_conversations`` is filled with ``--conversations``
realistic rows (customers and a few dealers, stages, assignees, ten lines of recent
history each, last messages spread over 90 days) by bulk inserts, the service is started
(``create_app``) on 127.0.0.1 and an admin bearer token is created. Then, over real
HTTP, one request at a time after a warm-up, ``--requests`` times each:

* ``healthz``: ``GET /healthz``, the baseline (HTTP and routing, no query);
* ``list``: ``GET /api/conversations`` (first page of 50, newest first);
* ``list, deep pages``: following ``next_cursor`` 20 pages down (each page timed);
* ``stage=open``, ``type=dealer``, ``assignee=...``: the inbox filters;
* ``q=...``: text search over phone, profile name and recent messages: a common word, a
  rare surname and a phone number's digits (on PostgreSQL answered from the ``pg_trgm``
  indexes of migration 10; on SQLite a scan).

The client shares the event loop with the server, so figures include both sides.
Goals: p99 of ``list`` under 50 ms (issue 7) and of the searches on PostgreSQL (issue
16); exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text

from adapters.auth.tokens import Role, TokenStore
from adapters.bootstrap import build
from adapters.readmodel.tables import whatsapp_conversations
from adapters.settings import Settings
from adapters.store.engine import Engines, create_engines
from adapters.store.migrations import migrate
from projections.conversations import search_text
from projections.messages import conversation_id
from scripts.bench_rebuild import PG_URL, pg_execute, reachable_backends
from scripts.synthetic_log import REPLIES, TEXTS, phone_of

GOAL_MS = 50.0
INSERT_CHUNK = 5000
AGENTS = tuple(f"agent-{n}" for n in range(1, 6))
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
FIRST = ("Giulia", "Marco", "Sara", "Luca", "Chiara", "Paolo", "Anna", "Davide", "Elena")
LAST = ("Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo")
RARE = "Quagliarella"  # one customer in a thousand
SEARCHES = (
    ("q=crocchette (common word)", "crocchette"),
    (f"q={RARE} (rare name)", RARE),
    ("q=3200004321 (one phone)", "3200004321"),
)


@dataclass(frozen=True, slots=True)
class Result:
    """Latency of one scenario."""

    backend: str
    scenario: str
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    goal_ms: float | None = None

    @property
    def met(self) -> bool | None:
        """Whether p99 is under the goal (None without a goal)."""
        return None if self.goal_ms is None else self.p99_ms < self.goal_ms


def conversation_row(n: int, rng: random.Random) -> dict[str, Any]:
    """One realistic ``whatsapp_conversations`` row."""
    dealer = n % 20 == 0
    phone = phone_of(n)
    stage = rng.choices(
        ("pending", "awaiting_confirmation", "open", "resolved", "opted_out"),
        weights=(70, 5, 10, 14, 1),
    )[0]
    last = NOW - timedelta(seconds=rng.randrange(90 * 86400))
    history = []
    for k in range(10):
        inbound = k % 2 == 0
        history.append(
            {
                "direction": "inbound" if inbound else "outbound",
                "type": "text",
                "text": rng.choice(TEXTS if inbound else REPLIES),
                **({"at": (last - timedelta(minutes=10 - k)).isoformat()} if inbound else {}),
                **({} if inbound else {"sender": "bot"}),
            }
        )
    surname = RARE if n % 1000 == 7 else rng.choice(LAST)
    row = {
        "id": conversation_id(f"conversation-{phone}"),
        "phone": phone,
        "person_id": f"prs_{n:024x}",
        "profile_name": f"{rng.choice(FIRST)} {surname}",
        "conversation_type": "dealer" if dealer else "customer",
        "context": {"history": history},
        "message_count": rng.randint(2, 40),
        "last_message_at": last,
        "stage": stage,
        "assignee": rng.choice(AGENTS) if stage == "open" else None,
        "unread_count": rng.randint(0, 3),
        "created_at": last - timedelta(days=rng.randint(0, 60)),
        "updated_at": last,
    }
    row["search_text"] = search_text(row)
    return row


async def seed(engines: Engines, conversations: int) -> None:
    """Bulk-insert ``conversations`` rows, ``INSERT_CHUNK`` per statement batch.

    On PostgreSQL the table is then analysed, as autovacuum does for a live table: without
    statistics the planner guesses how many rows a trigram condition matches.
    """
    rng = random.Random(3)
    for start in range(0, conversations, INSERT_CHUNK):
        rows = [
            conversation_row(n, rng) for n in range(start, min(conversations, start + INSERT_CHUNK))
        ]
        async with engines.writer.begin() as conn:
            await conn.execute(whatsapp_conversations.insert(), rows)
    if engines.dialect == "postgresql":  # the statistics autovacuum keeps on a live table
        async with engines.writer.begin() as conn:
            await conn.execute(text("ANALYZE whatsapp_conversations"))


@asynccontextmanager
async def serving(
    backend: str, tmp: Path, pg_url: str, conversations: int
) -> AsyncIterator[tuple[str, str]]:
    """The service on 127.0.0.1 over a seeded database: (base URL, admin bearer secret)."""
    schema = f"bench_api_{uuid.uuid4().hex[:10]}"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp}/{schema}.db")
    settings = dataclasses.replace(settings, debounce_seconds=0.0)
    if backend == "sqlite":
        engines = create_engines(settings.database_url)
    else:
        await pg_execute(pg_url, f'CREATE SCHEMA "{schema}"')
        engines = create_engines(pg_url, pg_schema=schema)
    runner: web.AppRunner | None = None
    try:
        await migrate(engines)
        await seed(engines, conversations)
        _, secret = await TokenStore(engines).create(Role.ADMIN, label="bench")
        from adapters.web.app import create_app  # noqa: PLC0415 - after the seed, as serve does

        runner = web.AppRunner(create_app(build(settings, engines=engines)), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}", secret
    finally:
        if runner is not None:
            await runner.cleanup()
        else:
            await engines.dispose()
        if backend == "postgres":
            await pg_execute(pg_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def timed(call: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    """Milliseconds of ``times`` sequential calls."""
    out = []
    for _ in range(times):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(backend: str, scenario: str, samples: list[float], goal: float | None) -> Result:
    """p50, p99 and max of ``samples``."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Result(
        backend, scenario, len(samples), statistics.median(ordered), p99, ordered[-1], goal
    )


async def bench_backend(backend: str, tmp: Path, args: argparse.Namespace) -> list[Result]:
    """Every scenario against one backend."""
    async with serving(backend, tmp, args.pg_url, args.conversations) as (base, secret):
        headers = {"Authorization": f"Bearer {secret}"}
        async with aiohttp.ClientSession(base, headers=headers) as http:

            async def get(path: str, **params: str) -> Any:
                async with http.get(path, params=params) as response:
                    if response.status != 200:
                        raise RuntimeError(f"{path}: {response.status} {await response.text()}")
                    return await response.json()

            await timed(lambda: get("/api/conversations"), args.warmup)
            results = [
                summary(
                    backend,
                    "healthz (baseline)",
                    await timed(lambda: get("/healthz"), args.requests),
                    None,
                ),
                summary(
                    backend,
                    "list",
                    await timed(lambda: get("/api/conversations"), args.requests),
                    GOAL_MS,
                ),
            ]
            deep: list[float] = []
            while len(deep) < args.requests:
                cursor = None
                for _ in range(20):
                    after: dict[str, str] = {"cursor": cursor} if cursor else {}
                    started = time.perf_counter()
                    page = await get("/api/conversations", **after)
                    deep.append((time.perf_counter() - started) * 1000)
                    cursor = page["next_cursor"]
            results.append(summary(backend, "list, 20 pages deep", deep, GOAL_MS))
            for label, filters in (
                ("stage=open", {"stage": "open"}),
                ("type=dealer", {"type": "dealer"}),
                ("assignee=agent-1", {"assignee": "agent-1"}),
            ):
                samples = await timed(_bound(get, filters), args.requests)
                results.append(summary(backend, label, samples, GOAL_MS))
            goal = GOAL_MS if backend == "postgres" else None
            for label, needle in SEARCHES:
                samples = await timed(_bound(get, {"q": needle}), args.search_requests)
                results.append(summary(backend, label, samples, goal))
    return results


def _bound(
    get: Callable[..., Awaitable[Any]], params: dict[str, str]
) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return await get("/api/conversations", **params)

    return call


async def run(args: argparse.Namespace) -> tuple[list[Result], list[str]]:
    """Every reachable backend."""
    results: list[Result] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dloop-bench-api-") as tmp:
        for backend in await reachable_backends(args.backends, args.pg_url, notes):
            results += await bench_backend(backend, Path(tmp), args)
    return results, notes


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's options."""
    parser = argparse.ArgumentParser(prog="bench api", description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000, help="rows in the table")
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    parser.add_argument("--search-requests", type=int, default=100, help="searches per case")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL, help="PostgreSQL database to use")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def render(results: list[Result]) -> str:
    """A Markdown table of the results."""
    lines = [
        "| backend | scenario | requests | p50 | p99 | max | goal |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        goal = (
            "-" if r.goal_ms is None else f"p99 < {r.goal_ms:g} ms {'met' if r.met else 'MISSED'}"
        )
        lines.append(
            f"| {r.backend} | {r.scenario} | {r.requests} | {r.p50_ms:.1f} ms"
            f" | {r.p99_ms:.1f} ms | {r.max_ms:.1f} ms | {goal} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON); 1 when a goal is missed."""
    args = build_parser().parse_args(argv)
    if args.conversations < 1 or args.requests < 1:
        print("bench api: --conversations and --requests must be positive", file=sys.stderr)
        return 2
    results, notes = asyncio.run(run(args))
    if args.json:
        rows = [{**asdict(r), "met": r.met} for r in results]
        print(json.dumps({"results": rows, "notes": notes}, indent=2))
    else:
        print(render(results))
        base = {r.backend: r.p50_ms for r in results if r.scenario.startswith("healthz")}
        for r in results:
            if r.scenario == "list" and base.get(r.backend):
                print(f"{r.backend}: list p50 / healthz p50 = {r.p50_ms / base[r.backend]:.1f}x")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 1 if any(r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
