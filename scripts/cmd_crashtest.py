"""``dloop-bot crashtest``: SIGKILL the service at random moments under load, then reconcile.

Spawns ``--processes`` copies of ``dloop-bot serve`` on a fresh database (SQLite: one
process; PostgreSQL: several share the conversations through leases), drives signed
webhook traffic at ``--rate`` (Meta-style redelivery of whatever was not acknowledged),
kills a random process ``--kills`` times and restarts it. Exit 0 only when no
acknowledged delivery was lost, no reply was sent twice and ``dloop-bot audit`` is clean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from scripts.common import fail
from scripts.loadgen.crash import CrashOptions, CrashReport, crashtest


def register(sub: Any) -> None:
    """Add the ``crashtest`` subcommand."""
    p = sub.add_parser(
        "crashtest",
        help="kill the service under load; prove nothing lost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--processes", type=int, default=1, help="service processes (PostgreSQL)")
    p.add_argument("--kills", type=int, default=5, help="SIGKILLs during the run")
    p.add_argument("--rate", type=float, default=30.0, help="webhook arrivals per second")
    p.add_argument("--duration", type=float, default=0.0, help="seconds (default 4 per kill)")
    p.add_argument("--settle", type=float, default=90.0, help="seconds to wait for quiescence")
    p.add_argument("--graph-latency", type=float, default=0.05, help="fake Graph API s/send")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run and print the counts; 0 only when every promise held."""
    if args.kills < 1 or args.processes < 1 or args.rate <= 0:
        return fail("--kills, --processes and --rate must be positive")
    if args.backend == "sqlite" and args.processes > 1:
        return fail("SQLite takes one service process (use --backend postgres to scale out)")
    options = CrashOptions(
        backend=args.backend,
        processes=args.processes,
        kills=args.kills,
        rate=args.rate,
        duration=args.duration,
        settle=args.settle,
        seed=args.seed,
        graph_latency=args.graph_latency,
    )
    report = asyncio.run(crashtest(options))
    print(json.dumps(report.to_json(), indent=2) if args.json else "\n".join(lines(report)))
    return 0 if report.ok else 1


def lines(report: CrashReport) -> list[str]:
    """The counts for a terminal."""
    doc = report.to_json()
    out = [
        f"crashtest: {doc['backend']}, {doc['processes']} process(es), {doc['rate']:g}/s"
        f" for {doc['window_s']} s",
        "  kills "
        + str(doc["kills"])
        + ": "
        + ", ".join(f"p{k['process']}@{k['at']}s (down {k['down_s']}s)" for k in doc["kill_log"]),
        f"  arrivals {doc['arrivals']}, acknowledged deliveries {doc['acknowledged_deliveries']},"
        f" failed attempts {doc['not_acknowledged_attempts']} ({_counts(doc['errors'])}),"
        f" redeliveries {doc['redeliveries']}, never acknowledged {doc['never_acknowledged']}",
        f"  lost {doc['lost']}, duplicate sends {doc['duplicate_sends']},"
        f" double-recorded {doc['double_recorded']}; replies sent {doc['replies_sent']},"
        f" unknown outcome (not resent, on review) {doc['replies_unknown_outcome']}",
    ]
    out += report.reconciliation.lines()
    out += ["  " + line for line in report.audit.lines()]
    out.append(f"crashtest: {'OK' if report.ok else 'FAILED'} in {doc['seconds']} s")
    return out


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"
