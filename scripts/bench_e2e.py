"""``dloop-bot bench e2e``: end-to-end turn latency and turns/s through a real service.

Three subprocesses on 127.0.0.1: ``dloop-bot serve`` (on a fresh SQLite file or a fresh
PostgreSQL database), the fake OpenAI API with a fixed latency (800 ms by default) as the
assistant, and the fake Graph API as Meta. Simulated customers (1,000 by default) each
send 5 messages in turn, the next one after the reply to the previous one has reached
the fake Graph API, as signed webhooks. Latency is measured from just before the webhook
POST to the moment the fake Graph API accepted the reply (``CLOCK_MONOTONIC`` is shared
by all processes on Linux); turns/s is turns over the wall time of the run.

The customers write small talk, so a turn is one assistant call (understanding; the
reply text is the same for everyone and comes from the reply cache after the warm-up).
Runs: debounce 0 on SQLite and PostgreSQL, then the default debounce (1.5 s) on both.

The service runs as a number at Meta's top tier (``WHATSAPP_MESSAGES_PER_SECOND=1000``)
and without the pair rate (``WHATSAPP_PAIR_INTERVAL=0``): these customers write again as
soon as the reply arrives, so with Meta's defaults (80 messages/s, a burst of 3 then one
per 6 s to one person) the pacing alone would hold turns/s at 80 and each customer's five
turns at 12 s or more, whatever the service costs. ``--compare WHATSAPP_PAIR_INTERVAL=6``
(or ``WHATSAPP_MESSAGES_PER_SECOND=80``) measures the paced service in the same run.
Each run also says where its time went (:mod:`scripts.bench_where`): the share of the
run the service's event loop was on CPU, waiting for a core, or idle, and the CPU of the
driver and the fakes; and where its turns waited (:mod:`scripts.bench_stages`, read back
from the run's event log, warm-up included).

The harness pieces (processes, fresh databases, signed webhooks) are reused by
``tests/engine``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from adapters.fakes.graph_api import FakeGraphApi
from adapters.meta.signature import HEADER, sign
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.simulate import text_delivery
from scripts.bench_profile import Recorder, cpu_seconds
from scripts.bench_stages import read_stages
from scripts.bench_stages import render as render_stages
from scripts.bench_where import WhereClock

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-e2e-secret"  # noqa: S105 - a throwaway key for local runs
TOKEN = "bench-token"  # noqa: S105 - the fake Graph API's token
PHONE_NUMBER_ID = "106540352242922"
PG_ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
GOAL_P99, GOAL_RATE = 1.3, 200.0
# A number at Meta's top tier, no pair rate: see the module docstring (--compare restores).
PACING = {"WHATSAPP_MESSAGES_PER_SECOND": "1000", "WHATSAPP_PAIR_INTERVAL": "0"}
TEXT = "Ciao! Come state oggi?"

# -- harness: processes -------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(slots=True)
class Child:
    """A subprocess with its output in a log file."""

    proc: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, argv: list[str], env: Mapping[str, str], log: Path) -> Child:
        """Start ``argv`` with ``env``, output appended to ``log``."""
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=dict(env), stdout=out, stderr=out, cwd=ROOT
            )
        return cls(proc=proc, log=log)

    async def wait_http(self, url: str, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a startup deadline
        """Poll ``url`` until it answers 200; raise with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(url) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{url} did not come up:\n{tail}")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as in a crash."""
        if self.proc.returncode is None:
            self.proc.kill()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """SIGTERM, then SIGKILL after ``timeout``."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
        await self.proc.wait()


def service_env(database_url: str, graph_base: str, **extra: str) -> dict[str, str]:
    """The environment of a ``dloop-bot serve`` child talking to the fake Graph API."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env.update(
        DATABASE_URL=database_url,
        WHATSAPP_APP_SECRET=SECRET,
        WHATSAPP_ACCESS_TOKEN=TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
        WHATSAPP_API_BASE=graph_base,
        DEBOUNCE_SECONDS="0",
        LOG_LEVEL="warning",
        LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_service(port: int, env: Mapping[str, str], log: Path) -> Child:
    """``dloop-bot serve --port PORT`` ready to take webhooks."""
    argv = [sys.executable, "-m", "scripts.cli", "serve", "--port", str(port)]
    if profile := os.environ.get("DLOOP_BENCH_PROFILE"):  # cProfile the service child
        argv[1:1] = ["-m", "cProfile", "-o", f"{profile}.{port}"]
    child = await Child.start(argv, env, log)
    await child.wait_http(f"http://127.0.0.1:{port}/healthz")
    return child


# -- harness: databases and webhooks ------------------------------------------------------


async def fresh_database(admin_url: str = PG_ADMIN_URL) -> str:
    """Create an empty PostgreSQL database, migrate it and return its SQLAlchemy URL."""
    name = f"dloop_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    await migrate_url(url)
    return url


async def drop_database(url: str, admin_url: str = PG_ADMIN_URL) -> None:
    """Drop a database made by :func:`fresh_database` (closing its sessions)."""
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def migrate_url(url: str) -> None:
    """Apply the schema migrations to ``url``."""
    engines = create_engines(url)
    try:
        await migrate(engines)
    finally:
        await engines.dispose()


def signed_text(phone_digits: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A Meta text-message webhook from ``phone_digits`` and its signed headers."""
    body = json.dumps(text_delivery(phone_digits, text), ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json", HEADER: sign(body, SECRET)}


async def post_text(
    http: aiohttp.ClientSession, base: str, phone_digits: str, text: str
) -> tuple[int, str]:
    """POST one signed message to ``base``/webhook; returns (HTTP status, its wamid)."""
    body, headers = signed_text(phone_digits, text)
    wamid = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    async with http.post(f"{base}/webhook", data=body, headers=headers) as resp:
        await resp.read()
        return resp.status, wamid


# -- the observing fake Graph API ---------------------------------------------------------


def _observing_app(fake: FakeGraphApi) -> web.Application:
    """The fake's app, printing ``sent <digits> <monotonic>`` for every accepted message."""

    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if response.status == 200 and request.path.endswith("/messages"):
            body = json.loads(await request.read())
            if body.get("status") != "read":
                to = str(body.get("to", "")).lstrip("+")
                sys.stdout.write(f"sent {to} {time.monotonic():.6f}\n")
        return response

    app = fake.make_app()
    app.middlewares.append(observe)
    return app


async def _serve_fake_graph(port: int) -> None:
    fake = FakeGraphApi(access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    runner = web.AppRunner(_observing_app(fake), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


class Observer:
    """Reads the observing fake's stdout and hands each reply time to its customer."""

    def __init__(self) -> None:
        self.replies: dict[str, asyncio.Queue[float]] = defaultdict(asyncio.Queue)
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, port: int) -> str:
        """Start the fake Graph API child on ``port``; returns its base URL."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "scripts.bench_e2e", "--fake-graph", str(port),
            stdout=asyncio.subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        await asyncio.wait_for(self.proc.stdout.readline(), 20)
        self._task = asyncio.create_task(self._read())
        return f"http://127.0.0.1:{port}"

    async def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == b"sent":
                self.replies[parts[1].decode()].put_nowait(float(parts[2]))

    async def stop(self) -> None:
        """Stop the child."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._task is not None:
            self._task.cancel()


# -- the benchmark ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunResult:
    """The figures of one run."""

    backend: str
    debounce: float
    customers: int
    turns: int
    lost: int  # turns whose reply never came within the wait
    seconds: float
    p50: float
    p99: float
    turns_per_second: float
    cpu_ms_per_turn: float  # the service child's user + system CPU over the measured turns
    variant: str = ""  # the --compare setting this run had ("" for the plain service)
    loop_on_cpu: float = 0.0  # share of the run the service's event loop ran
    loop_waiting: float = 0.0  # share of the run it was runnable but had no core
    helpers_cpu_ms_per_turn: float = 0.0  # the driver's and the fakes' CPU over the turns
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)  # p50, p99 (s)


async def _customer(
    http: aiohttp.ClientSession, base: str, observer: Observer, digits: str, messages: int
) -> list[float | None]:
    latencies: list[float | None] = []
    for _ in range(messages):
        started = time.monotonic()
        status, _wamid = await post_text(http, base, digits, TEXT)
        if status != 200:
            latencies.append(None)
            continue
        try:
            latencies.append(await asyncio.wait_for(observer.replies[digits].get(), 30) - started)
        except TimeoutError:
            latencies.append(None)
    return latencies


async def _drive(
    base: str, observer: Observer, customers: int, messages: int, prefix: str
) -> tuple[list[float | None], float]:
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        started = time.monotonic()
        runs = await asyncio.gather(
            *(
                _customer(http, base, observer, f"{prefix}{i:06d}", messages)
                for i in range(customers)
            )
        )
        return [x for run in runs for x in run], time.monotonic() - started


@contextlib.asynccontextmanager
async def database(backend: str, tmp: Path, given: str | None = None) -> AsyncIterator[str]:
    """A fresh, migrated database: a SQLite file in ``tmp`` or a PostgreSQL database
    created for the run and dropped after it; ``given`` (already migrated) is used as is."""
    if given is not None:
        yield given
        return
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.db"
        await migrate_url(url)
        yield url
        return
    url = await fresh_database()
    try:
        yield url
    finally:
        await drop_database(url)


async def run_once(
    backend: str,
    debounce: float,
    args: argparse.Namespace,
    tmp: Path,
    run: int,
    *,
    variant: str = "",
) -> RunResult:
    """One measured run on a fresh database and a fresh service process.

    ``variant`` (``KEY=VALUE``) is one more setting in the service's environment.
    """
    observer = Observer()
    graph = await observer.start(free_port())
    try:
        async with database(backend, tmp) as url:
            port = free_port()
            env = service_env(
                url,
                graph,
                OPENAI_API_KEY="sk-bench",
                OPENAI_BASE_URL=args.openai_url,
                LLM_REQUESTS_PER_MINUTE="1000000",
                DEBOUNCE_SECONDS=str(debounce),
                **PACING,
            )
            if variant:
                key, _, value = variant.partition("=")
                env[key] = value
            service = await start_service(port, env, tmp / f"service-{run}.log")
            base = f"http://127.0.0.1:{port}"
            try:
                await _drive(base, observer, args.warmup, 1, f"39300{run}")  # warm-up, unmeasured
                recorder = None
                if args.profile is not None and run == 0:
                    recorder = Recorder(service.proc.pid, args.profile)
                    await recorder.start()
                cpu = cpu_seconds(service.proc.pid)
                helpers = {"fake Graph API": _pid(observer.proc), "fake OpenAI": args.openai_pid}
                clock = WhereClock(service.proc.pid, helpers)
                latencies, seconds = await _drive(
                    base, observer, args.customers, args.messages, f"39310{run}"
                )
                cpu = cpu_seconds(service.proc.pid) - cpu
                where = clock.stop(seconds)
                if recorder is not None:
                    await recorder.stop()
            finally:
                await service.stop()
            stages = await read_stages(url)
    finally:
        await observer.stop()
    result = _result(backend, debounce, args.customers, latencies, seconds, cpu=cpu)
    print(where.render(), flush=True)
    print(render_stages(stages), flush=True)
    helpers_ms = sum(where.helpers_cpu.values()) * 1000 / max(result.turns, 1)
    return dataclasses.replace(
        result,
        variant=variant,
        loop_on_cpu=where.loop_on_cpu,
        loop_waiting=where.loop_waiting,
        helpers_cpu_ms_per_turn=round(helpers_ms, 2),
        stages=stages,
    )


def _pid(proc: asyncio.subprocess.Process | None) -> int:
    assert proc is not None, "the child was started"
    return proc.pid


def _result(
    backend: str,
    debounce: float,
    customers: int,
    latencies: list[float | None],
    seconds: float,
    *,
    cpu: float = 0.0,
) -> RunResult:
    done = sorted(x for x in latencies if x is not None)
    cuts = statistics.quantiles(done, n=100, method="inclusive") if len(done) > 1 else [0.0] * 99
    return RunResult(
        backend=backend,
        debounce=debounce,
        customers=customers,
        turns=len(done),
        lost=len(latencies) - len(done),
        seconds=round(seconds, 2),
        p50=round(cuts[49], 3),
        p99=round(cuts[98], 3),
        turns_per_second=round(len(done) / seconds, 1) if seconds else 0.0,
        cpu_ms_per_turn=round(cpu * 1000 / len(done), 2) if done else 0.0,
    )


async def _bench(args: argparse.Namespace) -> list[RunResult]:
    results: list[RunResult] = []
    openai_log = Path(tempfile.gettempdir()) / "bench-e2e-openai.log"
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as raw:
        tmp = Path(raw)
        openai_port = free_port()
        openai = await Child.start(
            [sys.executable, "-m", "adapters.fakes.openai_server", "--port", str(openai_port),
             "--latency", str(args.latency)],
            os.environ, openai_log,
        )  # fmt: skip
        args.openai_url = f"http://127.0.0.1:{openai_port}/v1"
        args.openai_pid = openai.proc.pid
        try:
            await _wait_port(openai_port)
            plan = [(b, 0.0) for b in args.backends] + [(b, args.debounce) for b in args.backends]
            variants = ["", *args.compare]  # each setting right after the plain run
            plan_runs = [(b, d, v) for b, d in plan for v in variants]
            for n, (backend, debounce, variant) in enumerate(plan_runs):
                result = await run_once(backend, debounce, args, tmp, n, variant=variant)
                print(render_one(result), flush=True)
                results.append(result)
        finally:
            await openai.stop()
    return results


async def _wait_port(port: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109 - a startup deadline
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def render_one(r: RunResult) -> str:
    """One line per run, with the verdict for debounce-0 runs."""
    line = (
        f"{r.backend:<8} {r.variant or '(as set)':<20} debounce {r.debounce:>3.1f} s: "
        f"{r.turns} turns ({r.lost} lost) in "
        f"{r.seconds:.1f} s = {r.turns_per_second:.0f} turns/s, "
        f"p50 {r.p50 * 1000:.0f} ms, p99 {r.p99 * 1000:.0f} ms, "
        f"CPU {r.cpu_ms_per_turn:.2f} ms/turn, "
        f"loop on CPU {r.loop_on_cpu:.0%} + waiting {r.loop_waiting:.0%}, "
        f"helpers {r.helpers_cpu_ms_per_turn:.2f} ms/turn"
    )
    if r.debounce == 0:
        ok = r.p99 < GOAL_P99 and r.turns_per_second >= GOAL_RATE and not r.lost
        line += "  [goal met]" if ok else "  [goal missed]"
    return line


def build_parser() -> argparse.ArgumentParser:
    """Options of ``dloop-bot bench e2e``."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench e2e", description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5, help="messages per customer")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured customers first")
    parser.add_argument("--latency", type=float, default=0.8, help="assistant latency, s")
    parser.add_argument("--debounce", type=float, default=1.5, help="the second series' window")
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="also run each case with this service setting, right after the plain run "
        "(A/B in one run; repeatable)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="py-spy the service during the first measured run; collapsed stacks to FILE "
        "(read them with python -m scripts.bench_profile FILE --turns N)",
    )
    parser.add_argument("--fake-graph", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 when a debounce-0 run misses the goal."""
    args = build_parser().parse_args(argv)
    if args.fake_graph is not None:
        asyncio.run(_serve_fake_graph(args.fake_graph))
        return 0
    if args.customers < 1 or args.messages < 1:
        print("dloop-bot bench e2e: --customers and --messages must be at least 1")
        return 2
    if bad := [c for c in args.compare if "=" not in c or c.startswith("=")]:
        print(f"dloop-bot bench e2e: --compare takes KEY=VALUE, got {bad[0]!r}")
        return 2
    results = asyncio.run(_bench(args))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    missed = [r for r in results if r.debounce == 0 and "[goal met]" not in render_one(r)]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
