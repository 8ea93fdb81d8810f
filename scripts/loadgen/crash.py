"""A crash run: load against spawned services, SIGKILL them at random moments, reconcile.

The load is the open-loop traffic of :mod:`.openloop`: a refused connection, a reset or a
503 while a process is down is simply not acknowledged, and the generator redelivers it
later, as Meta does. Each kill lands at a random moment of its own slice of the window
(so kills are spread over the run and at least one restart apart), on a random process
of the pool; the process is restarted on its port after a short random pause. After the
window every unacknowledged delivery is redelivered, the log is awaited until quiescent,
the services are stopped and the run is judged by :mod:`.reconcile` (nothing acknowledged
lost or doubled, no reply sent twice) and ``dloop-bot audit`` (projections equal a fresh
fold of the log, one outcome per queued reply, every wamid recorded once).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.fakes.graph_api import Behaviour
from adapters.ops.audit import audit
from adapters.ops.findings import AuditReport
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.bench_e2e import PHONE_NUMBER_ID, SECRET, TOKEN
from scripts.loadgen.graph import ObservedGraph
from scripts.loadgen.openloop import LoadStats, OpenLoop
from scripts.loadgen.reconcile import Reconciliation, reconcile, wait_settled
from scripts.loadgen.services import ServicePool, database
from scripts.loadgen.traffic import Traffic


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashOptions:
    """A crash run's parameters."""

    backend: str = "sqlite"
    processes: int = 1
    kills: int = 5
    rate: float = 30.0
    duration: float = 0.0  # 0: four seconds per kill, at least 10
    seed: int = 1
    settle: float = 90.0
    debounce: float = 0.2
    database_url: str | None = None  # a migrated database to use instead of a fresh one
    graph_latency: float = 0.05  # seconds the fake Graph API takes per send: kills then
    # land on sends in flight, whose outcome is unknown (they must not be resent)

    def window(self) -> float:
        """Seconds of load."""
        return self.duration or max(10.0, 4.0 * self.kills)


@dataclass(slots=True)
class Kill:
    """One SIGKILL: when (seconds into the window), which process, how long it was down."""

    at: float
    process: int
    down: float = 0.0


@dataclass(slots=True)
class CrashReport:
    """Counts of a crash run; :attr:`ok` when nothing was lost or sent twice."""

    options: CrashOptions
    kills: list[Kill]
    stats: LoadStats
    reconciliation: Reconciliation
    audit: AuditReport
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every kill happened, reconciliation and audit clean, the log quiescent."""
        r = self.reconciliation
        return (
            len(self.kills) >= self.options.kills
            and r.ok
            and r.settled
            and self.audit.ok
            and not self.stats.unacked
        )

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        r, s = self.reconciliation, self.stats
        return {
            "backend": self.options.backend,
            "processes": self.options.processes,
            "rate": self.options.rate,
            "window_s": round(s.seconds, 2),
            "kills": len(self.kills),
            "kill_log": [
                {"at": round(k.at, 2), "process": k.process, "down_s": round(k.down, 2)}
                for k in self.kills
            ],
            "arrivals": s.scheduled,
            "acknowledged_deliveries": r.acked_deliveries,
            "not_acknowledged_attempts": sum(s.errors.values()),
            "errors": dict(s.errors),
            "redeliveries": s.redeliveries,
            "never_acknowledged": len(s.unacked),
            "lost": r.lost,
            "duplicate_sends": r.duplicate_sends,
            "double_recorded": r.double_recorded,
            "replies_sent": r.replies_sent,
            "replies_unknown_outcome": r.replies_unknown,
            "reconciliation": r.to_json(),
            "audit": self.audit.to_json(),
            "seconds": round(self.seconds, 1),
            "ok": self.ok,
        }


async def crashtest(options: CrashOptions) -> CrashReport:
    """Run the crash scenario described by ``options``."""
    started = time.monotonic()
    rng = random.Random(options.seed)  # noqa: S311 - repeatable kill moments, not secrets
    traffic = Traffic(
        SECRET,
        phones=max(200, int(options.rate * 15)),
        phone_number_id=PHONE_NUMBER_ID,
        seed=options.seed,
    )
    graph = ObservedGraph(traffic.observe_send, access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID)
    if options.graph_latency > 0:
        sends = int(options.rate * options.window() * 3)
        graph.script(*[Behaviour.sleep(options.graph_latency)] * sends)
    await graph.start()
    try:
        with tempfile.TemporaryDirectory(prefix="dloop-crash-") as raw:
            tmp = Path(raw)
            async with database(options.backend, tmp, options.database_url) as url:
                pool = ServicePool(
                    url,
                    graph.base_url,
                    tmp,
                    count=options.processes,
                    DEBOUNCE_SECONDS=str(options.debounce),
                )
                try:
                    await pool.start()
                    loop = OpenLoop(
                        pool.urls,
                        traffic,
                        rate=options.rate,
                        duration=options.window(),
                        timeout=5.0,
                        drain=120.0,
                    )
                    killer = asyncio.create_task(_kill_at_random(pool, options, rng))
                    stats = await loop.run()
                    kills = await killer
                    wamids = {w for d in stats.acked.values() for w in d.wamids}
                    settled = await wait_settled(url, wamids, options.settle)
                finally:
                    await pool.stop()
                recon = await reconcile(url, stats.acked, graph, settled=settled)
                report = await _audit(url)
    finally:
        await graph.close()
    return CrashReport(options, kills, stats, recon, report, time.monotonic() - started)


async def _kill_at_random(
    pool: ServicePool, options: CrashOptions, rng: random.Random
) -> list[Kill]:
    """SIGKILL a random process once in each slice of the window, restart it, go on."""
    began, window = time.monotonic(), options.window()
    slot = (window - 1.0) / options.kills
    kills: list[Kill] = []
    for i in range(options.kills):
        due = began + 1.0 + i * slot + rng.uniform(0.0, slot * 0.5)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        index = rng.randrange(options.processes)
        kill = Kill(at=time.monotonic() - began, process=index)
        await pool.kill(index)
        await asyncio.sleep(rng.uniform(0.1, 0.6))
        await pool.restart(index)
        kill.down = time.monotonic() - began - kill.at
        kills.append(kill)
    return kills


async def _audit(url: str) -> AuditReport:
    engines = create_engines(url)
    try:
        return await audit(EventStore(engines), grace=timedelta(0))
    finally:
        await engines.dispose()
