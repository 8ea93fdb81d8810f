"""``dloop-bot bench flood``: a burst from ONE number, as fast as 8 senders can post it.

A fresh ``dloop-bot serve`` (SQLite file, then a fresh PostgreSQL database when reachable;
offline assistant, the default 1.5 s debounce, the fake Graph API as Meta) receives
3,000 signed text webhooks from one phone number over 8 concurrent connections. Then
the log is watched until every recorded message is covered by a turn.

Figures and goals: acknowledgements per second (>= 1,000/s), every message recorded
(3,000 distinct ``whatsapp.message_received``), every message processed within 5 s of
the last acknowledgement, no handler failure (``reactor.handler_failed`` in the service
log) and nothing parked (no ``parked-*`` event), and the replies to that number within the
pair rate (``--pair-interval``/``--pair-burst``: Meta's one message per 6 s after a burst).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import text

from adapters.store.engine import create_engines
from core.pacing import Throttle
from scripts.bench_e2e import (
    Observer,
    database,
    free_port,
    post_text,
    service_env,
    start_service,
)
from scripts.bench_profile import Recorder, cpu_seconds
from scripts.bench_where import thread_sched

DIGITS = "393281234567"
GOAL_RATE, GOAL_LAG = 1000.0, 5.0


@dataclass(frozen=True, slots=True)
class FloodResult:
    """The figures of one backend's run."""

    backend: str
    sent: int
    refused: int  # webhooks not answered 200
    ack_rate: float
    recorded: int
    processed_lag: float | None  # seconds from the last ack until all were covered; None: never
    failures: int  # handler failures in the service log
    parked: int
    replies: int
    over_rate: int  # replies sent past the pair rate (a token bucket: burst, then interval)
    sent_seconds: float  # how long the burst took to post
    server_cpu: float  # cores the service used while the burst was posted (all its threads)
    client_cpu: float  # cores this bench process (the 8 senders) used meanwhile
    loop_on_cpu: float  # share of the burst the service's event loop ran
    loop_waiting: float  # share of the burst it waited, runnable, for a core

    def ok(self, pair_interval: float) -> bool:
        """Every goal of the module docstring."""
        return (
            self.ack_rate >= GOAL_RATE
            and self.refused == 0
            and self.recorded == self.sent
            and self.processed_lag is not None
            and self.processed_lag <= GOAL_LAG
            and self.failures == 0
            and self.parked == 0
            and self.over_rate == 0
        )

    def line(self, pair_interval: float) -> str:
        """One line for a terminal."""
        lag = "never" if self.processed_lag is None else f"{self.processed_lag:.2f} s"
        verdict = "goal met" if self.ok(pair_interval) else "goal missed"
        return (
            f"{self.backend:8} {self.sent} messages ({self.refused} refused): acknowledged at"
            f" {self.ack_rate:.0f}/s, {self.recorded} recorded, all processed {lag} after the"
            f" last ack, {self.failures} handler failures, {self.parked} parked, {self.replies}"
            f" replies ({self.over_rate} past the pair rate); cores during the burst:"
            f" service {self.server_cpu:.2f}, senders {self.client_cpu:.2f}; service loop on CPU"
            f" {self.loop_on_cpu:.0%}, waiting for a core {self.loop_waiting:.0%},"
            f" {self.server_cpu * self.sent_seconds * 1000 / self.sent:.2f} ms service CPU"
            f" per message  [{verdict}]"
        )


async def _send(base: str, messages: int, senders: int) -> tuple[int, float]:
    """Post ``messages`` texts from one number over ``senders`` connections."""
    left = iter(range(messages))
    refused = 0

    async def sender(http: aiohttp.ClientSession) -> None:
        nonlocal refused
        for n in left:
            status, _ = await post_text(http, base, DIGITS, f"Messaggio numero {n}")
            refused += status != 200

    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.monotonic()
        await asyncio.gather(*(sender(http) for _ in range(senders)))
        return refused, time.monotonic() - started


async def log_coverage(url: str) -> tuple[int, int, int]:
    """(messages recorded, messages a turn covered, parked events) in the log now."""
    engines = create_engines(url)
    try:
        async with engines.reader.connect() as conn:
            recorded = (
                await conn.execute(
                    text("SELECT count(*) FROM events WHERE type = 'whatsapp.message_received'")
                )
            ).scalar_one()
            rows = await conn.execute(
                text("SELECT data FROM events WHERE type = 'engine.turn_processed'")
            )
            covered = sum(len(json.loads(r[0])["fact_ids"]) for r in rows)
            parked = (
                await conn.execute(text("SELECT count(*) FROM events WHERE stream LIKE 'parked-%'"))
            ).scalar_one()
    finally:
        await engines.dispose()
    return int(recorded), covered, int(parked)


async def _await_processed(url: str, expected: int, timeout: float) -> float | None:  # noqa: ASYNC109
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        _recorded, covered, _parked = await log_coverage(url)
        if covered >= expected:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    return None


async def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> FloodResult:
    """One burst against a fresh service and database."""
    observer = Observer()
    graph = await observer.start(free_port())
    try:
        async with database(backend, tmp) as url:
            port, log = free_port(), tmp / f"service-{backend}.log"
            env = service_env(url, graph, DEBOUNCE_SECONDS=str(args.debounce), LOG_LEVEL="info")
            env.update(args.env)
            service = await start_service(port, env, log)
            pid = service.proc.pid
            recorder = Recorder(pid, Path(f"{args.profile}.{backend}")) if args.profile else None
            try:
                if recorder is not None:
                    await recorder.start()
                server0, client0 = cpu_seconds(pid), time.process_time()
                ran0, waited0 = thread_sched(pid)
                refused, seconds = await _send(
                    f"http://127.0.0.1:{port}", args.messages, args.senders
                )
                server_cpu = (cpu_seconds(pid) - server0) / seconds
                client_cpu = (time.process_time() - client0) / seconds
                ran1, waited1 = thread_sched(pid)
                if recorder is not None:
                    await recorder.stop()
                recorded, _, _ = await log_coverage(url)
                lag = await _await_processed(url, recorded, args.timeout)
                await asyncio.sleep(args.settle)
                _, _, parked = await log_coverage(url)
            finally:
                await service.stop()
            failures = log.read_text(errors="replace").count("reactor.handler_failed")
    finally:
        await observer.stop()
    times = _drain(observer.replies[DIGITS])
    return FloodResult(
        backend=backend,
        sent=args.messages,
        refused=refused,
        ack_rate=args.messages / seconds if seconds else 0.0,
        recorded=recorded,
        processed_lag=lag,
        failures=failures,
        parked=parked,
        replies=len(times),
        over_rate=over_rate(times, args.pair_interval, args.pair_burst),
        sent_seconds=seconds,
        server_cpu=server_cpu,
        client_cpu=client_cpu,
        loop_on_cpu=(ran1 - ran0) / seconds,
        loop_waiting=(waited1 - waited0) / seconds,
    )


def over_rate(times: list[float], interval: float, burst: int) -> int:
    """Sends a pair-rate token bucket (5% slack for clocks) would have refused."""
    bucket, refused = Throttle.per_user(interval * 0.95, burst), 0
    for t in times:
        bucket, wait = bucket.allow(t)
        refused += wait > 0.0
    return refused


def _drain(queue: asyncio.Queue[float]) -> list[float]:
    out: list[float] = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return sorted(out)


async def _bench(args: argparse.Namespace) -> list[FloodResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as raw:
        for backend in args.backends:
            result = await run_backend(backend, args, Path(raw))
            print(result.line(args.pair_interval), flush=True)
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``dloop-bot bench flood``; exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench flood", description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--debounce", type=float, default=1.5)
    parser.add_argument("--pair-interval", type=float, default=6.0)
    parser.add_argument("--pair-burst", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="longest wait for processing")
    parser.add_argument("--settle", type=float, default=1.0, help="wait before counting parks")
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy the service during the burst; collapsed stacks to FILE",
    )
    parser.add_argument("--env", type=_pair, action="append", default=[], help="NAME=VALUE")
    args = parser.parse_args(argv)
    args.env = dict(args.env)
    results = asyncio.run(_bench(args))
    return 0 if all(r.ok(args.pair_interval) for r in results) else 1


def _pair(value: str) -> tuple[str, str]:
    name, _, val = value.partition("=")
    return name, val
