"""``dloop-bot bench NAME|all``: the benchmarks (scripts, never tests).

Names: store, ingest, nlu, e2e, ops, rebuild, api, turns, flood, statuses, partitions, outage.

Each benchmark lives in its own ``scripts/bench_<name>.py`` with ``main(argv) -> int``;
the arguments after the benchmark's name are passed to it unchanged. ``all`` runs every
one with its defaults, one after the other (e2e alone takes minutes), and returns the
worst exit status.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from typing import Any

BENCHES = (
    "store", "ingest", "nlu", "e2e", "ops", "rebuild", "api", "turns", "flood", "statuses",
    "partitions", "outage",
)  # fmt: skip


def register(sub: Any) -> None:
    """Add the ``bench`` subcommand."""
    parser = sub.add_parser(
        "bench",
        help="run a benchmark: " + ", ".join(BENCHES) + " or all",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("which", choices=[*BENCHES, "all"], help="the benchmark to run")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="its own options (see --help)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to ``scripts.bench_<which>.main``."""
    if args.which != "all":
        return _run_one(args.which, list(args.rest))
    statuses = [_run_one(name, []) for name in BENCHES if _available(name)]
    return max(statuses, default=0)


def _available(name: str) -> bool:
    return importlib.util.find_spec(f"scripts.bench_{name}") is not None


def _run_one(name: str, argv: list[str]) -> int:
    if not _available(name):
        print(f"dloop-bot bench: scripts/bench_{name}.py is not installed")
        return 2
    module = importlib.import_module(f"scripts.bench_{name}")
    status: int = module.main(argv)
    return status
