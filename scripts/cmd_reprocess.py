"""``dloop-bot reprocess [--reactor NAME] [--position N]``: re-drive parked events.

A reactor parks an event (``engine.event_parked`` in ``parked-<reactor>``) after bounded
retries. Once the cause is fixed, this runs the reactor's handler again on each parked
event still pending (or on the one at ``--position``), under the stream's lease, and
records ``engine.parked_event_reprocessed`` with the outcome. Handlers are idempotent,
so re-driving something already done changes nothing. On SQLite the running service
owns the reactors: stop it first (the command says so when it cannot take the lease).
"""

from __future__ import annotations

import argparse
from typing import Any

from adapters.bootstrap import build
from adapters.settings import Settings
from scripts.common import fail, run_async, settings_or_exit

REACTORS = ("conversation", "outbox")


def register(sub: Any) -> None:
    """Add the ``reprocess`` subcommand."""
    parser = sub.add_parser("reprocess", help="re-drive events parked by a reactor")
    parser.add_argument("--reactor", choices=REACTORS, help="only this reactor (default: all)")
    parser.add_argument("--position", type=int, help="only the parked event at this position")
    parser.add_argument(
        "--lease-timeout", type=float, default=10.0, help="seconds to wait for a stream's lease"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Re-drive and print one line per parked event; exit 1 if any still fails."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    if args.position is not None and args.position < 1:
        return fail(f"--position must be a positive log position, got {args.position}")
    names = [args.reactor] if args.reactor else list(REACTORS)
    return run_async(
        lambda: _main(settings, names, args.position, args.lease_timeout), settings.database_url
    )


async def _main(settings: Settings, names: list[str], position: int | None, wait: float) -> int:
    deps = build(settings)
    deps.run_reactors = False
    await deps.start()
    try:
        async with deps.reprocessors() as everyone:
            failures = total = 0
            for dispatcher in (d for d in everyone if d.name in names):
                for outcome in await dispatcher.reprocess(position, lease_timeout=wait):
                    total += 1
                    failures += not outcome.succeeded
                    verdict = "ok" if outcome.succeeded else f"failed: {outcome.error}"
                    print(f"{outcome.reactor} position {outcome.position}: {verdict}")
        print(f"reprocess: {total} parked event(s) re-driven, {failures} still failing")
        return 1 if failures else 0
    finally:
        await deps.close()
