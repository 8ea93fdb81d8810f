"""``dloop-bot rebuild [--projection NAME]``: rebuild read tables from position 0.

Without ``--projection`` every projection is rebuilt in one pass over the log
(:func:`~adapters.readmodel.runner.rebuild_all`); the time reported is that pass's.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import rebuild_all
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from scripts.common import fail, run_async, settings_or_exit
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add the ``rebuild`` subcommand."""
    names = [p.name for p in all_projections()]
    parser = sub.add_parser("rebuild", help="rebuild projections from the event log")
    parser.add_argument("--projection", choices=names, help="only this projection")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Rebuild and report rows and time per projection."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    chosen = [p for p in all_projections() if args.projection in (None, p.name)]
    if not chosen:
        return fail(f"unknown projection {args.projection!r}")

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            await migrate(engines)
            store = EventStore(engines)
            with progress_bar("rebuild", json_output=args.json) as progress:
                reports = await rebuild_all(store, chosen, progress=progress)
        finally:
            await engines.dispose()
        for r in reports:
            if args.json:
                print(json.dumps(asdict(r)))
            else:
                print(f"{r.projection}: {r.rows} rows")
        if reports and not args.json:
            r = reports[0]
            rate = r.events / r.seconds if r.seconds else 0.0
            took = f"{r.seconds:.2f} s ({rate:,.0f} events/s)"
            print(
                f"rebuilt {len(reports)} projection(s) from {r.events} events in one pass: {took}"
            )
        return 0

    return run_async(main, settings.database_url)
