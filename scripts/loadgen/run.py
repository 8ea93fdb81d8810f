"""One load run: traffic at a fixed rate, then quiescence, then reconciliation.

Against a running service (``url``: its database read through ``database_url``) or a
spawned one (``spawn``: ``sqlite`` or ``postgres``), in which case the fake Graph API,
the database and ``dloop-bot serve`` are all made for the run and removed after it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.bench_e2e import PHONE_NUMBER_ID, SECRET, TOKEN
from scripts.loadgen.graph import ObservedGraph
from scripts.loadgen.openloop import LoadStats, OpenLoop
from scripts.loadgen.procstat import MIB, ProcessWatch
from scripts.loadgen.reconcile import Reconciliation, reconcile, wait_settled
from scripts.loadgen.services import ServicePool, database
from scripts.loadgen.traffic import Traffic


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadOptions:
    """Everything a run needs (the CLI's options)."""

    rate: float
    duration: float
    spawn: str | None = "sqlite"  # sqlite | postgres | None (use ``urls``)
    urls: tuple[str, ...] = ()
    database_url: str | None = None  # the target's DATABASE_URL; with ``spawn``: a migrated
    # database to use (and keep) instead of a fresh one
    secret: str = SECRET
    graph_port: int | None = None  # ``urls`` runs: serve the fake Graph API here
    pid: int | None = None  # ``urls`` runs: the process to sample
    processes: int = 1
    roles: tuple[str, ...] = ()  # DLOOP_ROLE per spawned process (overrides ``processes``)
    cap: int = 256
    timeout: float = 10.0
    drain: float = 60.0
    settle: float = 60.0  # seconds to wait for quiescence before reconciling
    phones: int = 0  # 0: enough that nobody passes the per-phone limit
    seed: int = 1
    debounce: float = 0.2
    sample_every: float = 5.0
    warmup: float = 60.0
    max_rss_growth_mib: float = 64.0
    max_fd_growth: int = 50

    def phone_count(self) -> int:
        """Customers: given, or one per 4 arrivals a minute (the limit is 10 a minute)."""
        return self.phones or max(200, int(self.rate * 60 / 4))


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a run measured and found."""

    options: LoadOptions
    stats: LoadStats
    reconciliation: Reconciliation | None
    process: dict[str, Any] | None
    process_ok: bool

    @property
    def ok(self) -> bool:
        """Reconciliation clean (when it ran) and no growth beyond the bounds."""
        clean = self.reconciliation is None or self.reconciliation.ok
        return clean and self.process_ok

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        s = self.stats
        return {
            "rate": self.options.rate,
            "duration": self.options.duration,
            "target": self.options.spawn or ",".join(self.options.urls),
            "processes": ",".join(self.options.roles) or self.options.processes,
            "scheduled": s.scheduled,
            "ok_first_attempt": s.ok,
            "throughput": round(s.ok / s.seconds, 1) if s.seconds else 0.0,
            "latency_ms": {
                name: round(s.percentile(q) * 1000, 1)
                for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
            },
            "errors": dict(s.errors),
            "kinds": dict(s.kinds),
            "redeliveries": s.redeliveries,
            "redelivered_ok": s.redelivered_ok,
            "unacknowledged": len(s.unacked),
            "window_s": round(s.seconds, 2),
            "drain_s": round(s.drain_seconds, 2),
            "client_cpu_share": round(s.client_cpu, 2),
            "loadavg_1m": [round(x, 2) for x in s.loadavg],
            "reconciliation": self.reconciliation.to_json() if self.reconciliation else None,
            "process": self.process,
            "ok": self.ok,
        }


async def loadtest(options: LoadOptions) -> LoadReport:
    """Run the load described by ``options`` and reconcile."""
    traffic = Traffic(
        options.secret,
        phones=options.phone_count(),
        phone_number_id=PHONE_NUMBER_ID,
        seed=options.seed,
    )
    graph: ObservedGraph | None = None
    if options.spawn or options.graph_port is not None:
        graph = ObservedGraph(
            traffic.observe_send, access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID
        )
        await graph.start(port=options.graph_port or 0)
    try:
        async with _targets(options, graph) as (urls, database_url, pid):
            watch = _watch(options, pid)
            stats = await OpenLoop(
                list(urls),
                traffic,
                rate=options.rate,
                duration=options.duration,
                cap=options.cap,
                timeout=options.timeout,
                drain=options.drain,
            ).run()
            if watch is not None:
                watch.load_ended()
            recon = None
            if database_url is not None:
                wamids = {w for d in stats.acked.values() for w in d.wamids}
                settled = await wait_settled(database_url, wamids, options.settle)
                recon = await reconcile(database_url, stats.acked, graph, settled=settled)
            if watch is not None:
                await watch.stop()
    finally:
        if graph is not None:
            await graph.close()
    process = watch.to_json() if watch is not None else None
    return LoadReport(options, stats, recon, process, watch is None or watch.ok)


def _watch(options: LoadOptions, pid: int | None) -> ProcessWatch | None:
    if pid is None:
        return None
    watch = ProcessWatch(
        pid,
        every=options.sample_every,
        warmup=options.warmup,
        max_rss_growth=int(options.max_rss_growth_mib * MIB),
        max_fd_growth=options.max_fd_growth,
    )
    watch.start()
    return watch


@contextlib.asynccontextmanager
async def _targets(
    options: LoadOptions, graph: ObservedGraph | None
) -> AsyncIterator[tuple[tuple[str, ...], str | None, int | None]]:
    """(base URLs, database URL, pid to sample) of the run's service."""
    if not options.spawn:
        yield options.urls, options.database_url, options.pid
        return
    assert graph is not None
    with tempfile.TemporaryDirectory(prefix="dloop-load-") as raw:
        tmp = Path(raw)
        async with database(options.spawn, tmp, options.database_url) as url:
            pool = ServicePool(
                url,
                graph.base_url,
                tmp,
                count=options.processes,
                roles=options.roles,
                DEBOUNCE_SECONDS=str(options.debounce),
            )
            try:
                await pool.start()
                targets = pool.webhook_targets
                yield tuple(pool.urls[i] for i in targets), url, pool.pid(targets[0])
            finally:
                await pool.stop()
