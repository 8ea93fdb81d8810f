"""``dloop-bot bench outage``: the Graph API down for two minutes under load.

A fresh ``dloop-bot serve`` (SQLite file, then a fresh PostgreSQL database; offline
assistant, default settings) takes signed webhooks from ``--customers`` people (30), each
writing every ``--every`` seconds (8, from a random start) for ``--before`` seconds, the
``--down`` seconds (120) of the outage, and ``--after`` seconds more. The fake Graph API runs
in this process (so it can be switched) and posts Meta's status webhooks back. During the
outage it answers every send like Meta when it is down (``--fault 5xx``: HTTP 500, code 1),
or stops listening (``--fault refused``: a TCP proxy in front of it refuses connections;
it answers 500 for the first and last second so that no send is cut mid-flight, which the
service would rightly treat as "outcome unknown" and send to review).

Then, bounded (``--wait``: by default down + SEND_RETRY_CAP + the pair-rate spacing of a
customer's backlog + 60 s), it waits until every reply the service decided
(``ReplyQueued``) has an outcome, and checks from the fake's accepted messages and the log:

* every decided reply accepted exactly once: none twice, none missing, no accepted
  message the log does not know (a merged send counts for each reply it carried);
* per person, in the order decided;
* nothing on the review queue (no ``OutboundFailed``), no handler failure or park;
* pair pacing respected per recipient (``--pair-interval``/``--pair-burst``, the service's
  defaults, with 5% slack);
* every customer webhook answered 200, during the outage too.

Reported: replies decided before/during/after the outage, retries scheduled, seconds from
recovery to the first send accepted (which pulls the outage's retries forward, ADR 0036),
to the median one and to the last reply accepted, the longest wait of one reply (decided
to accepted), the service's CPU. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.fakes.tcp_proxy import FaultyProxy
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from events.base import RecordedEvent
from events.conversation import OutboundFailed, OutboundSent, ReplyQueued
from events.send_retries import OutboundRetryScheduled
from scripts.bench_e2e import (
    PHONE_NUMBER_ID,
    SECRET,
    TOKEN,
    database,
    free_port,
    post_text,
    service_env,
    start_service,
)
from scripts.bench_flood import log_coverage, over_rate
from scripts.bench_profile import cpu_seconds

PHASES = ("before", "during", "after")
TEXTS = ("Ciao! Come state oggi?", "Buongiorno, come va?", "Ciao, tutto bene?")
_KINDS = [ReplyQueued.TYPE, OutboundSent.TYPE, OutboundFailed.TYPE, OutboundRetryScheduled.TYPE]


# -- the fake Graph API, switchable, with accept times -----------------------------------


@dataclass(frozen=True, slots=True)
class Accepted:
    """One send the fake accepted: when (wall and monotonic), to whom, under which wamid."""

    at: float  # time.time()
    mono: float
    to: str
    wamid: str
    oid: str  # biz_opaque_callback_data: the (first) reply's id


class Graph:
    """The fake Graph API in this process, optionally behind a proxy that can refuse."""

    def __init__(self, webhook_url: str, fault: str) -> None:
        self.fake = FakeGraphApi(
            access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID,
            webhook_url=webhook_url, app_secret=SECRET, status_delay=0.2,
        )  # fmt: skip
        self.fault = fault
        self.accepted: list[Accepted] = []
        self._runner: web.AppRunner | None = None
        self._proxy: FaultyProxy | None = None

    async def start(self) -> str:
        """Serve; returns the base URL the service must use."""
        app = self.fake.make_app()
        app.middlewares.append(self._observe)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        if self.fault != "refused":
            return f"http://127.0.0.1:{port}"
        self._proxy = FaultyProxy("127.0.0.1", port)
        return f"http://127.0.0.1:{await self._proxy.start()}"

    @web.middleware
    async def _observe(self, request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if response.status == 200 and request.path.endswith("/messages"):
            body = json.loads(await request.read())
            if body.get("status") != "read" and isinstance(response, web.Response):
                assert isinstance(response.body, bytes)
                wamid = json.loads(response.body)["messages"][0]["id"]
                to, oid = str(body.get("to", "")), str(body.get("biz_opaque_callback_data"))
                self.accepted.append(Accepted(time.time(), time.monotonic(), to, wamid, oid))
        return response

    async def down(self) -> None:
        """Answer every send with a 5xx (and, with ``refused``, stop listening after 1 s)."""
        self.fake.outage(Behaviour.server_error())
        if self._proxy is not None:
            await asyncio.sleep(1.0)  # sends under way finish (with a 500) first
            await self._proxy.go_down()

    async def up(self) -> None:
        """Accept sends again."""
        if self._proxy is not None:
            await self._proxy.come_up()
        self.fake.recover()

    async def close(self) -> None:
        """Stop the proxy, the webhooks and the server."""
        if self._proxy is not None:
            await self._proxy.close()
        await self.fake.close()
        if self._runner is not None:
            await self._runner.cleanup()


# -- the customers -----------------------------------------------------------------------


@dataclass(slots=True)
class Load:
    """What the customers posted: HTTP statuses by phase."""

    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    messages: int = 0


async def customers(
    base: str, n: int, every: float, seconds: float, phase: Callable[[], str]
) -> Load:
    """``n`` customers writing every ``every`` s (random start) for ``seconds``."""
    load, rng = Load(), random.Random(14)
    end = time.monotonic() + seconds

    async def one(http: aiohttp.ClientSession, digits: str, start: float) -> None:
        await asyncio.sleep(start)
        k = 0
        while time.monotonic() < end:
            try:
                status, _ = await post_text(http, base, digits, TEXTS[k % len(TEXTS)])
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            load.statuses[phase()][status] += 1
            load.messages += 1
            k += 1
            await asyncio.sleep(every)

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        starts = [rng.uniform(0.0, every) for _ in range(n)]
        await asyncio.gather(*(one(http, f"39329{i:07d}", s) for i, s in enumerate(starts)))
    return load


# -- the check (pure) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audit:
    """What the accepted messages and the log say about exactly-once, in order."""

    decided: int
    delivered: int  # decided replies accepted exactly once
    twice: int  # decided replies carried by more than one accepted message
    missing: int  # decided replies no accepted message carried
    unknown: int  # accepted messages no OutboundSent names (sent behind the log's back)
    out_of_order: int  # people whose replies were accepted in another order than decided
    failed: int  # OutboundFailed: the review queue

    @property
    def ok(self) -> bool:
        """Every reply exactly once, in order, nothing for review."""
        return self.delivered == self.decided and not (
            self.twice or self.missing or self.unknown or self.out_of_order or self.failed
        )


def audit(log: Sequence[RecordedEvent], accepted: Iterable[Accepted]) -> Audit:
    """Check ``accepted`` (in accept order) against the log's decided replies and outcomes."""
    queued: dict[str, list[str]] = defaultdict(list)  # stream -> oids in decided order
    carried: dict[str, list[str]] = defaultdict(list)  # wamid -> oids it was recorded for
    failed = 0
    for e in log:
        match e.payload:
            case ReplyQueued(outbound_id=oid):
                queued[e.stream].append(oid)
            case OutboundSent(outbound_id=oid, wamid=wamid):
                carried[wamid].append(oid)
            case OutboundFailed():
                failed += 1
    stream_of = {oid: s for s, oids in queued.items() for oid in oids}
    got: dict[str, list[str]] = defaultdict(list)  # stream -> oids in accepted order
    unknown = 0
    for a in accepted:
        if a.wamid not in carried:
            unknown += 1
        for oid in carried.get(a.wamid, [a.oid]):
            got[stream_of.get(oid, "?")].append(oid)
    counts = Counter(oid for oids in got.values() for oid in oids)
    decided = [oid for oids in queued.values() for oid in oids]
    return Audit(
        decided=len(decided),
        delivered=sum(counts[oid] == 1 for oid in decided),
        twice=sum(counts[oid] > 1 for oid in decided),
        missing=sum(counts[oid] == 0 for oid in decided),
        unknown=unknown,
        out_of_order=sum(_first_seen(got[s]) != oids for s, oids in queued.items()),
        failed=failed,
    )


def _first_seen(oids: list[str]) -> list[str]:
    return list(dict.fromkeys(oids))


# -- one run -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutageResult:
    """The figures of one backend's run."""

    backend: str
    fault: str
    down: float
    audit: Audit
    messages: int
    refused: dict[str, int]  # webhooks not answered 200, by phase
    statuses_refused: int  # the fake's status webhooks not answered 200
    decided: dict[str, int]  # replies decided before / during / after the outage
    retries: int  # OutboundRetryScheduled recorded
    completed: bool  # every decided reply had an outcome within --wait
    recovery_to_first: float  # seconds from recovery to the first send accepted
    recovery_to_last: float  # seconds from recovery to the last reply accepted
    recovery_to_half: float  # ... to the median of the sends accepted after recovery
    longest_wait: dict[str, float]  # the longest decided-to-accepted wait, by phase decided
    over_rate: int  # sends past the pair rate
    failures: int  # handler failures in the service log
    parked: int
    cpu: float  # service CPU seconds over the run
    seconds: float  # the run's wall time (load and wait)

    @property
    def ok(self) -> bool:
        """Every goal of the module docstring."""
        refused = sum(self.refused.values()) + self.statuses_refused
        quiet = not (refused or self.over_rate or self.failures or self.parked)
        return self.completed and self.audit.ok and quiet

    def line(self) -> str:
        """The run's figures on a few lines, with its verdict."""
        a, d, w = self.audit, self.decided, self.longest_wait
        verdict = "goal met" if self.ok else "goal missed"
        return (
            f"{self.backend:8} {self.fault} outage {self.down:.0f} s, {self.messages} messages"
            f" ({sum(self.refused.values())} not answered 200: {self.refused}; status webhooks"
            f" not answered 200: {self.statuses_refused}):\n"
            f"  replies decided {a.decided} (before {d['before']}, during {d['during']},"
            f" after {d['after']}); {a.delivered} accepted exactly once, {a.twice} twice,"
            f" {a.missing} missing, {a.unknown} unknown sends, {a.out_of_order} people out"
            f" of order, {a.failed} for review; {self.retries} retries scheduled\n"
            f"  sends after recovery: the first {self.recovery_to_first:.1f} s, half within"
            f" {self.recovery_to_half:.1f} s, the last"
            f" {self.recovery_to_last:.1f} s after it; longest wait of one reply (decided to"
            f" accepted) by when it was decided: {w['before']:.1f} / {w['during']:.1f} /"
            f" {w['after']:.1f} s; {self.over_rate} sends past the pair"
            f" rate, {self.failures} handler failures, {self.parked} parked; service CPU"
            f" {self.cpu:.1f} s over {self.seconds:.0f} s ({self.cpu / self.seconds:.2f} cores)"
            f"{'' if self.completed else ', NOT COMPLETED within --wait'}  [{verdict}]"
        )


async def read_log(url: str) -> list[RecordedEvent]:
    """The decided replies, their outcomes and the retries scheduled, in log order."""
    engines = create_engines(url)
    store, out, after = EventStore(engines), [], 0
    try:
        while batch := await store.read_all_uncached(after, 5000, types=_KINDS):
            out += batch
            after = batch[-1].position
    finally:
        await engines.dispose()
    return out


async def settled(url: str) -> bool:
    """Every message covered by a turn and every decided reply with an outcome."""
    recorded, covered, _ = await log_coverage(url)
    log = await read_log(url)
    done = {
        e.payload.outbound_id for e in log if e.type in {OutboundSent.TYPE, OutboundFailed.TYPE}
    }
    open_ = [e for e in log if e.type == ReplyQueued.TYPE and e.payload.outbound_id not in done]
    return covered >= recorded and not open_


@contextlib.asynccontextmanager
async def serving(backend: str, args: argparse.Namespace, tmp: Path) -> AsyncIterator[Run]:
    """A fresh database, the fake Graph API and the service between them."""
    port = free_port()
    graph = Graph(f"http://127.0.0.1:{port}/webhook", args.fault)
    try:
        base = await graph.start()
        async with database(backend, tmp) as url:
            log = tmp / f"service-{backend}.log"
            env = service_env(url, base, **args.env)
            if "DEBOUNCE_SECONDS" not in args.env:
                del env["DEBOUNCE_SECONDS"]  # the service's default debounce, as in production
            service = await start_service(port, env, log)
            try:
                yield Run(url, f"http://127.0.0.1:{port}", graph, service.proc.pid, log)
            finally:
                await service.stop()
    finally:
        await graph.close()


@dataclass(slots=True)
class Run:
    """One run's parts."""

    url: str
    base: str
    graph: Graph
    pid: int
    log: Path
    down_at: float = 0.0  # time.time() of the outage's start and end
    up_at: float = 0.0


async def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> OutageResult:
    """One outage against a fresh service and database."""
    async with serving(backend, args, tmp) as run:
        started, cpu0 = time.monotonic(), cpu_seconds(run.pid)
        load_seconds = args.before + args.down + args.after

        def phase() -> str:
            return "before" if not run.down_at else "during" if not run.up_at else "after"

        async def outage() -> None:
            await asyncio.sleep(args.before)
            run.down_at = time.time()
            await run.graph.down()
            await asyncio.sleep(args.down)
            await run.graph.up()
            run.up_at = time.time()

        load, _ = await asyncio.gather(
            customers(run.base, args.customers, args.every, load_seconds, phase), outage()
        )
        completed = await _until(lambda: settled(run.url), _wait_limit(args))
        await asyncio.sleep(1.0)  # a duplicate sent late would show now
        cpu = cpu_seconds(run.pid) - cpu0
        seconds = time.monotonic() - started
        _, _, parked = await log_coverage(run.url)
        events = await read_log(run.url)
    failures = run.log.read_text(errors="replace").count("reactor.handler_failed")
    return _result(
        backend, args, run, load, events=events, completed=completed, parked=parked,
        failures=failures, cpu=cpu, seconds=seconds,
    )  # fmt: skip


def _result(
    backend: str,
    args: argparse.Namespace,
    run: Run,
    load: Load,
    *,
    events: list[RecordedEvent],
    completed: bool,
    parked: int,
    failures: int,
    cpu: float,
    seconds: float,
) -> OutageResult:
    accepted = run.graph.accepted
    queued = {e.payload.outbound_id: e.recorded_at.timestamp() for e in events
              if e.type == ReplyQueued.TYPE}  # fmt: skip
    wamid_at = {a.wamid: a.at for a in accepted}
    waits: dict[str, list[float]] = defaultdict(list)  # by the phase the reply was decided in
    for e in events:
        if e.type == OutboundSent.TYPE and e.payload.wamid in wamid_at:
            at = queued[e.payload.outbound_id]
            waits[_phase(at, run.down_at, run.up_at)].append(wamid_at[e.payload.wamid] - at)
    after_up = sorted(a.at - run.up_at for a in accepted if a.at >= run.up_at)
    decided = Counter(_phase(at, run.down_at, run.up_at) for at in queued.values())
    by_to: dict[str, list[float]] = defaultdict(list)
    for a in accepted:
        by_to[a.to].append(a.mono)
    return OutageResult(
        backend=backend, fault=args.fault, down=args.down, audit=audit(events, accepted),
        messages=load.messages,
        refused={p: sum(n for s, n in c.items() if s != 200) for p, c in load.statuses.items()},
        statuses_refused=sum(d.http_status != 200 for d in run.graph.fake.webhooks),
        decided={p: decided[p] for p in PHASES},
        retries=sum(e.type == OutboundRetryScheduled.TYPE for e in events),
        completed=completed,
        recovery_to_first=after_up[0] if after_up else 0.0,
        recovery_to_last=after_up[-1] if after_up else 0.0,
        recovery_to_half=statistics.median(after_up) if after_up else 0.0,
        longest_wait={p: max(waits[p], default=0.0) for p in PHASES},
        over_rate=sum(over_rate(t, args.pair_interval, args.pair_burst) for t in by_to.values()),
        failures=failures, parked=parked, cpu=cpu, seconds=seconds,
    )  # fmt: skip


def _phase(at: float, down_at: float, up_at: float) -> str:
    return "before" if at < down_at else "during" if at < up_at else "after"


def _wait_limit(args: argparse.Namespace) -> float:
    if args.wait is not None:
        return float(args.wait)
    backlog = (args.down + args.after) / args.every + 1  # a customer's replies waiting
    return float(args.down + args.cap + backlog * args.pair_interval + 60.0)


async def _until(check: Callable[[], Any], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(1.0)
    return False


async def _bench(args: argparse.Namespace) -> list[OutageResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-outage-") as raw:
        for backend in args.backends:
            result = await run_backend(backend, args, Path(raw))
            print(result.line(), flush=True)
            results.append(result)
    return results


def build_parser() -> argparse.ArgumentParser:
    """Options of ``dloop-bot bench outage``."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench outage", description=__doc__)
    parser.add_argument("--customers", type=int, default=30)
    parser.add_argument("--every", type=float, default=8.0, help="s between a customer's messages")
    parser.add_argument("--before", type=float, default=20.0, help="s of load before the outage")
    parser.add_argument("--down", type=float, default=120.0, help="seconds the Graph API is down")
    parser.add_argument("--after", type=float, default=20.0, help="seconds of load after it")
    parser.add_argument("--fault", choices=["5xx", "refused"], default="5xx")
    parser.add_argument("--wait", type=float, default=None, help="longest wait for the backlog, s")
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--env", type=_pair, action="append", default=[], help="NAME=VALUE")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``dloop-bot bench outage``; exit 1 when a goal is missed."""
    args = build_parser().parse_args(argv)
    args.env = dict(args.env)
    # What the service runs with (its defaults unless --env changes them): the checks use them.
    args.cap = float(args.env.get("SEND_RETRY_CAP", 300.0))
    args.pair_interval = float(args.env.get("WHATSAPP_PAIR_INTERVAL", 6.0))
    args.pair_burst = int(args.env.get("WHATSAPP_PAIR_BURST", 3))
    results = asyncio.run(_bench(args))
    return 0 if all(r.ok for r in results) else 1


def _pair(value: str) -> tuple[str, str]:
    name, _, val = value.partition("=")
    return name, val
