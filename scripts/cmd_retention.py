"""``dloop-bot retention``: drop raw webhook bodies older than the retention (writes)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.ops.retention import DEFAULT_DAYS, drop_raw_bodies
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.common import fail, run_async, settings_or_exit
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add the ``retention`` subcommand."""
    parser = sub.add_parser(
        "retention", help="drop raw webhook bodies older than N days; parsed facts stay"
    )
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help="keep bodies this many days (%(default)s)"
    )
    parser.add_argument("--dry-run", action="store_true", help="count only, change nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Drop (or count) the bodies and print what was done."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    if args.days < 1:
        return fail("--days must be at least 1")

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            with progress_bar("retention", json_output=args.json) as progress:
                report = await drop_raw_bodies(
                    EventStore(engines), days=args.days, dry_run=args.dry_run, progress=progress
                )
        finally:
            await engines.dispose()
        print(json.dumps(report.to_json()) if args.json else report.line())
        return 0

    return run_async(main, settings.database_url)
