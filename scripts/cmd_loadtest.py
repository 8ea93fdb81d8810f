"""``dloop-bot loadtest``: open-loop signed webhook traffic, then reconciliation.

``--spawn sqlite|postgres`` makes the whole run: a fresh database, the fake Graph API in
this process, ``dloop-bot serve`` (offline NLU, short debounce) on a free port. With
``--url`` it loads a running service instead: pass its ``--database-url`` (default
``DATABASE_URL``) to reconcile and its ``--pid`` to sample memory and open files; with
``--graph-port`` the fake Graph API listens there for it. Exit 1 when reconciliation finds
a lost or doubled delivery or a duplicate send, or memory / descriptors grew past the
bounds after the warm-up (a soak: ``--duration 600``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from adapters.progress import Progress
from scripts.bench_e2e import SECRET
from scripts.common import fail
from scripts.loadgen.run import LoadOptions, LoadReport, loadtest
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add the ``loadtest`` subcommand."""
    p = sub.add_parser(
        "loadtest",
        help="open-loop webhook load with reconciliation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--rate", type=float, required=True, help="arrivals per second")
    p.add_argument("--duration", type=float, required=True, help="seconds of load")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--spawn", choices=["sqlite", "postgres"], help="start the service here")
    where.add_argument("--url", action="append", help="a running service's base URL (repeatable)")
    p.add_argument("--processes", type=int, default=1, help="--spawn: service processes")
    p.add_argument(
        "--roles",
        help="--spawn: DLOOP_ROLE per process, e.g. web,all (webhooks go to the web ones)",
    )
    p.add_argument(
        "--database-url",
        help="--url: the service's DATABASE_URL, to reconcile; --spawn: a migrated database"
        " to run on and keep (default: a fresh one, removed after)",
    )
    p.add_argument("--secret", help="--url: app secret to sign with (WHATSAPP_APP_SECRET)")
    p.add_argument("--graph-port", type=int, help="--url: serve the fake Graph API on this port")
    p.add_argument("--pid", type=int, help="--url: the service process to sample")
    p.add_argument("--cap", type=int, default=256, help="requests in flight at most")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    p.add_argument("--settle", type=float, default=60.0, help="seconds to wait for quiescence")
    p.add_argument("--phones", type=int, default=0, help="customers (default from the rate)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--debounce", type=float, default=0.2, help="--spawn: DEBOUNCE_SECONDS")
    p.add_argument("--sample-every", type=float, default=5.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before the baseline")
    p.add_argument("--max-rss-growth", type=float, default=64.0, help="MiB after warm-up")
    p.add_argument("--max-fd-growth", type=int, default=50, help="descriptors after warm-up")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run, print, and exit 0 only when every promise held."""
    if args.rate <= 0 or args.duration <= 0:
        return fail("--rate and --duration must be positive")
    if not args.spawn and not args.url:
        return fail("give --spawn sqlite|postgres or --url URL")
    secret: str = args.secret or os.environ.get("WHATSAPP_APP_SECRET") or ""
    if args.url and not secret:
        return fail("--url needs --secret or WHATSAPP_APP_SECRET to sign deliveries")
    options = LoadOptions(
        rate=args.rate,
        duration=args.duration,
        spawn=args.spawn,
        urls=tuple(u.rstrip("/") for u in args.url or ()),
        database_url=args.database_url or (None if args.spawn else os.environ.get("DATABASE_URL")),
        secret=secret if args.url else SECRET,
        graph_port=args.graph_port,
        pid=args.pid,
        processes=args.processes,
        roles=tuple(r.strip() for r in args.roles.split(",")) if args.roles else (),
        cap=args.cap,
        timeout=args.timeout,
        settle=args.settle,
        phones=args.phones,
        seed=args.seed,
        debounce=args.debounce,
        sample_every=args.sample_every,
        warmup=args.warmup,
        max_rss_growth_mib=args.max_rss_growth,
        max_fd_growth=args.max_fd_growth,
    )
    with progress_bar("loadtest (seconds)", json_output=args.json) as progress:
        report = asyncio.run(_clocked(options, progress))
    print(json.dumps(report.to_json(), indent=2) if args.json else "\n".join(lines(report)))
    return 0 if report.ok else 1


async def _clocked(options: LoadOptions, progress: Progress) -> LoadReport:
    """The load test, with the seconds of load sent reported twice a second."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    total = int(options.duration)

    async def tick() -> None:
        while True:
            progress(min(int(loop.time() - started), total), total)
            await asyncio.sleep(0.5)

    clock = asyncio.create_task(tick())
    try:
        return await loadtest(options)
    finally:
        clock.cancel()


def lines(report: LoadReport) -> list[str]:
    """The report for a terminal."""
    doc = report.to_json()
    lat = doc["latency_ms"]
    out = [
        f"loadtest: {doc['rate']:g}/s for {doc['duration']:g} s against {doc['target']}"
        f" ({doc['processes']} process(es)); load average {doc['loadavg_1m']},"
        f" generator CPU {doc['client_cpu_share']}",
        f"  arrivals {doc['scheduled']} ({_counts(doc['kinds'])}),"
        f" 200 first time {doc['ok_first_attempt']} = {doc['throughput']}/s"
        f" over {doc['window_s']} s",
        f"  latency from schedule: p50 {lat['p50']} ms, p90 {lat['p90']} ms,"
        f" p99 {lat['p99']} ms, max {lat['max']} ms",
        f"  errors: {_counts(doc['errors']) or 'none'}; redeliveries {doc['redeliveries']}"
        f" ({doc['redelivered_ok']} acknowledged), never acknowledged {doc['unacknowledged']}",
    ]
    if report.reconciliation is not None:
        out += report.reconciliation.lines()
    proc = doc["process"]
    if proc and proc.get("samples"):
        rss, fds = proc["rss_mib"], proc["fds"]
        out.append(
            f"  process {proc['pid']}: RSS MiB start {rss['start']} baseline {rss['baseline']}"
            f" end {rss['end']} max {rss['max']} (growth {rss['growth']}, bound {rss['bound']});"
            f" fds start {fds['start']} baseline {fds['baseline']} end {fds['end']}"
            f" max {fds['max']} (growth {fds['growth']}, bound {fds['bound']});"
            f" CPU {proc['cpu_share']} core(s)"
        )
    out.append("loadtest: OK" if report.ok else "loadtest: FAILED")
    return out


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
