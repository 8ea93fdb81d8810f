"""``dloop-bot bench ingest``: durable webhook deliveries per second, against a ceiling.

Three servers on 127.0.0.1, each in its own subprocess and each on a fresh SQLite file
(WAL, ``synchronous=FULL``):

* ``serve``: the real service (``dloop-bot migrate`` then ``dloop-bot serve``) with
  ``WHATSAPP_APP_SECRET`` set;
* ``ingest-only``: the same application (``create_app(build(settings))``, same logging)
  with its background workers (projections, reactors) removed: the ingestion path alone;
* ``ceiling``: a bare aiohttp handler in this module (``--ceiling-server``) that checks the
  HMAC, parses the JSON and group-commits the raw body into a one-table database.

A load client (``--client``: a separate process on raw asyncio streams) keeps 64
connections busy for ``--duration`` seconds with pre-signed deliveries, then lets the
requests in flight finish. The default mix is Meta's shape for a bot (``--mix status``,
:mod:`scripts.ingest_mix`): for each ~1.2 KB Italian text, three status webhooks (sent,
delivered, read) of sends seeded in the database beforehand; ``--mix text`` sends texts
only (the figures of issue 3). After
each run the server is stopped and its database checked: every delivery answered 200 must
be recorded (compared by body SHA-256), so nothing acknowledged was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.bootstrap import build
from adapters.logging import configure_logging
from adapters.meta.signature import HEADER
from adapters.settings import load_settings
from adapters.web.app import create_app
from scripts.cmd_serve import settle_memory
from scripts.ingest_mix import requests, seed

SECRET = "bench-app-secret"  # noqa: S105 - a throwaway key for a local benchmark
# Issue 15: serve 2,000/s with p99 < 250 ms and median < 50 ms; ingest-only 0.6 of the ceiling.
GOAL_RATE, GOAL_P99_MS, GOAL_P50_MS, GOAL_SHARE = 2000.0, 250.0, 50.0, 0.6
_TEXT = (
    "Buongiorno! Vorrei ordinare per sabato una crostata di ricotta e visciole da otto "
    "porzioni, due vassoi di cannoli siciliani (uno con la granella di pistacchio, uno con "
    "le gocce di cioccolato) e una pastiera napoletana. Passerei a ritirare verso le "
    "undici e mezza; se possibile vorrei pagare con la carta al ritiro. Potete anche "
    "scrivere 'Buon compleanno Giulia' sulla crostata? Grazie mille e buona giornata, a "
    "presto! Ah, un'ultima cosa: la crostata è senza lattosio? Mia cugina è intollerante, "
    "quindi in caso contrario ne prenderei una seconda più piccola adatta a lei."
)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What the client measured against one server."""

    server: str
    requests: int
    ok: int
    errors: int
    seconds: float
    rate: float  # 200 answers per second
    p50_ms: float
    p99_ms: float
    recorded: int  # deliveries found in the database afterwards
    lost: int  # answered 200 but not recorded: must be 0
    client_cpu: float  # share of one core the client used
    server_cpu: tuple[float, ...] = ()  # cores used by the server, then by each child


# --------------------------------------------------------------------------- the client


async def _connection(
    port: int, work: Iterator[bytes], deadline: float, out: dict[str, list[Any]]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    try:
        for request in work:
            if clock() >= deadline:
                break
            started = clock()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            out["latency"].append(clock() - started)
            if head[9:12] == b"200":
                out["ok"].append(request)
            else:
                out["errors"].append(head[9:12])
    finally:
        writer.close()


async def run_client(
    port: int, connections: int, duration: float, n: int, mix: str
) -> dict[str, Any]:
    """Drive ``port`` and return counts, latencies and the SHA-256 of every 200'd body."""
    work = iter(list(requests(n, SECRET, _TEXT, mix)))
    out: dict[str, list[Any]] = {"latency": [], "ok": [], "errors": []}
    cpu0, started = time.process_time(), time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(_connection(port, work, deadline, out) for _ in range(connections)))
    seconds = time.perf_counter() - started
    cpu = (time.process_time() - cpu0) / seconds
    latency = sorted(out["latency"])
    return {
        "requests": len(latency),
        "errors": len(out["errors"]),
        "seconds": seconds,
        "p50_ms": _percentile(latency, 0.50) * 1000,
        "p99_ms": _percentile(latency, 0.99) * 1000,
        "client_cpu": cpu,
        "exhausted": len(latency) >= n,
        "acked": [hashlib.sha256(r.split(b"\r\n\r\n", 1)[1]).hexdigest() for r in out["ok"]],
    }


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


# --------------------------------------------------------------------------- the ceiling


class RawCommitter:
    """Group commit of raw bodies into one SQLite table: one thread hop per batch."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.execute("CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, body TEXT)")
        self.queue: asyncio.Queue[tuple[str, asyncio.Future[None]]] = asyncio.Queue()

    def _write(self, bodies: list[tuple[str]]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT INTO deliveries (body) VALUES (?)", bodies)
        self.db.execute("COMMIT")

    async def run(self) -> None:
        """Commit whatever is queued, release its callers, repeat."""
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await asyncio.to_thread(self._write, [(body,) for body, _ in batch])
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def append(self, body: str) -> None:
        """Durable on return."""
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((body, future))
        await future


COMMITTER = web.AppKey("committer", RawCommitter)
TARGETS = ("serve", "ingest-only", "ceiling")


def ingest_only_app() -> web.Application:
    """``dloop-bot serve``'s application without its background workers (projections,
    reactors): the ingestion path alone, configured from the environment as serve is."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    deps = build(settings)
    deps.workers.clear()
    deps.reactors.clear()
    deps.run_reactors = False
    app = create_app(deps)
    app.on_startup.append(settle_memory)  # as serve does
    return app


def ceiling_app(path: Path, secret: str) -> web.Application:
    """Verify, parse, group-commit, answer: nothing else."""
    app = web.Application()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get(HEADER, "")):
            return web.json_response({"error": "bad signature"}, status=403)
        json.loads(body)
        await app[COMMITTER].append(body.decode())
        return web.json_response({"status": "recorded"})

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        committer = app[COMMITTER] = RawCommitter(path)
        task = asyncio.create_task(committer.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        committer.db.close()

    app.cleanup_ctx.append(lifetime)
    app.router.add_post("/webhook", receive)
    app.router.add_get("/healthz", _healthz)
    return app


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


# --------------------------------------------------------------------------- orchestration


def build_parser() -> argparse.ArgumentParser:
    """The options of ``bench ingest`` (and of its two internal roles)."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench ingest", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--deliveries", type=int, help="pre-signed deliveries (default 16k/s)")
    parser.add_argument(
        "--mix",
        choices=("status", "text"),
        default="status",
        help="status: 1 text to 3 statuses of our sends (Meta's shape, default); text: texts only",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--client", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--ceiling-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--ingest-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run both servers under load, check the databases, print the comparison."""
    args = build_parser().parse_args(argv)
    n = args.deliveries or int(16_000 * args.duration) + 1000
    if args.ceiling_server is not None:
        web.run_app(ceiling_app(args.db, SECRET), host="127.0.0.1", port=args.ceiling_server,
                    print=None, access_log=None)  # fmt: skip
        return 0
    if args.ingest_server is not None:
        web.run_app(ingest_only_app(), host="127.0.0.1", port=args.ingest_server, print=None,
                    access_log=None)  # fmt: skip
        return 0
    if args.client is not None:
        result = asyncio.run(run_client(args.client, args.connections, args.duration, n, args.mix))
        args.out.write_text(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="dloop-bench-ingest-") as tmp:
        results = [_measure(target, Path(tmp), args, n) for target in TARGETS]
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results], **_verdict(results)}, indent=2))
    else:
        print(render(results, args))
    return 0 if all(r.lost == 0 and r.ok == r.recorded for r in results) else 1


def _measure(target: str, tmp: Path, args: argparse.Namespace, n: int) -> LoadResult:
    port, db = _free_port(), tmp / f"{target}.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
           "WHATSAPP_APP_SECRET": SECRET, "LOG_FORMAT": "json"}  # fmt: skip
    log = (tmp / f"{target}.log").open("wb")
    if target == "serve":
        cli = [sys.executable, "-m", "scripts.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, stdout=log, stderr=log)  # noqa: S603 - our own interpreter and module
        _seed(env["DATABASE_URL"], args.mix)
        command = [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
    elif target == "ingest-only":
        cli = [sys.executable, "-m", "scripts.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, stdout=log, stderr=log)  # noqa: S603 - same
        _seed(env["DATABASE_URL"], args.mix)
        command = [sys.executable, "-m", "scripts.bench_ingest", "--ingest-server", str(port)]
    else:
        command = [sys.executable, "-m", "scripts.bench_ingest", "--ceiling-server", str(port),
                   "--db", str(db)]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603 - same
    try:
        _wait_ready(port, server)
        if target == "serve":
            _wait_caught_up(port)  # the seeded sends projected before the load, not during it
        before = _cpu_seconds(server.pid)
        load = _load(port, tmp / f"{target}.json", args, n)
        after = _cpu_seconds(server.pid)
        load["server_cpu"] = [
            round((after.get(pid, 0.0) - before.get(pid, 0.0)) / load["seconds"], 2)
            for pid in after
        ]
    finally:
        _stop(server)
        log.close()
    return _result(target, load, _recorded(target, db))


def _seed(database_url: str, mix: str) -> None:
    """Our own sends, for the statuses of the mix to be about (before the server starts)."""
    if mix == "status":
        asyncio.run(seed(database_url))


def _load(port: int, out: Path, args: argparse.Namespace, n: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "scripts.bench_ingest", "--client", str(port),
               "--connections", str(args.connections), "--duration", str(args.duration),
               "--deliveries", str(n), "--out", str(out), "--mix", args.mix]  # fmt: skip
    subprocess.run(command, check=True, timeout=args.duration + 300)  # noqa: S603 - same
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def _cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of ``pid`` and of each of its children (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for each in [pid, *(int(c) for c in children)]:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            found[each] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited early with status {server.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready within 30 s")


def _wait_caught_up(port: int) -> None:
    """Wait until ``/readyz`` reports no subscriber lagging (120 s at most)."""
    deadline, url = time.monotonic() + 120, f"http://127.0.0.1:{port}/readyz"
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError, ValueError, KeyError),
            urllib.request.urlopen(url, timeout=5) as answer,
        ):
            if json.loads(answer.read())["lag"] == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not catch up within 120 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGINT: aiohttp shuts down gracefully, so queued writes finish first."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _recorded(target: str, db: Path) -> list[str]:
    """SHA-256 of every delivery body the server's database holds."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        if target != "ceiling":
            sql = ("SELECT json_extract(data, '$.body_sha256') FROM events"
                   " WHERE type = 'whatsapp.webhook_received'")  # fmt: skip
            return [row[0] for row in conn.execute(sql)]
        rows = conn.execute("SELECT body FROM deliveries")
        return [hashlib.sha256(row[0].encode()).hexdigest() for row in rows]


def _result(target: str, load: dict[str, Any], recorded: list[str]) -> LoadResult:
    acked = load["acked"]
    seconds = load["seconds"]
    return LoadResult(
        server=target,
        requests=load["requests"],
        ok=len(acked),
        errors=load["errors"],
        seconds=round(seconds, 2),
        rate=round(len(acked) / seconds, 1),
        p50_ms=round(load["p50_ms"], 2),
        p99_ms=round(load["p99_ms"], 2),
        recorded=len(recorded),
        lost=len(set(acked) - set(recorded)),
        client_cpu=round(load["client_cpu"], 2),
        server_cpu=tuple(load["server_cpu"]),
    )


def _verdict(results: list[LoadResult]) -> dict[str, Any]:
    by = {r.server: r for r in results}
    serve, ingest, ceiling = by["serve"], by["ingest-only"], by["ceiling"]
    share = ingest.rate / ceiling.rate if ceiling.rate else 0.0
    return {
        "share_of_ceiling": round(share, 2),
        "goals": {
            "rate": serve.rate >= GOAL_RATE,
            "p99": serve.p99_ms < GOAL_P99_MS,
            "p50": serve.p50_ms < GOAL_P50_MS,
            "share": share >= GOAL_SHARE,
            "nothing_lost": all(r.lost == 0 and r.ok == r.recorded for r in results),
        },
    }


def render(results: list[LoadResult], args: argparse.Namespace) -> str:
    """A Markdown table of both runs and the verdict."""
    lines = [
        f"Webhook ingestion, {args.connections} connections, {args.duration:g} s per server,"
        f" SQLite WAL synchronous=FULL, mix {args.mix}",
        "",
        "| server | deliveries/s (200) | p50 ms | p99 ms | 200s | recorded | lost | errors"
        " | client CPU | server CPU (cores: process, children) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.server} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.ok}"
            f" | {r.recorded} | {r.lost} | {r.errors} | {r.client_cpu:.0%}"
            f" | {', '.join(f'{c:.2f}' for c in r.server_cpu)} |"
        )
    verdict = _verdict(results)
    goals = {k: "met" if v else "MISSED" for k, v in verdict["goals"].items()}
    lines += [
        "",
        f"serve >= {GOAL_RATE:,.0f}/s: {goals['rate']}; serve p99 < {GOAL_P99_MS:g} ms:"
        f" {goals['p99']}; serve p50 < {GOAL_P50_MS:g} ms: {goals['p50']};"
        f" ingest-only / ceiling = {verdict['share_of_ceiling']:.2f} (goal >= {GOAL_SHARE}):"
        f" {goals['share']}; nothing acknowledged lost:"
        f" {'yes' if verdict['goals']['nothing_lost'] else 'NO'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
