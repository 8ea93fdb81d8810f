"""``dloop-bot audit``: check the log and the read side; non-zero exit on any finding."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

from adapters.ops.audit import DEFAULT_GRACE, audit
from adapters.ops.hashchain import seal
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.common import fail, run_async, settings_or_exit
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add the ``audit`` subcommand."""
    parser = sub.add_parser("audit", help="check the event log and every projection")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE.total_seconds(),
        help="seconds a queued reply may wait for its outcome (default %(default)s)",
    )
    parser.add_argument(
        "--seal",
        action="store_true",
        help="first bring the hash chain up to date (writes event_hashes only)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Audit and print the findings; 1 on any finding, 0 when clean."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    if args.grace < 0:
        return fail("--grace must be zero or more seconds")

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            store = EventStore(engines)
            if args.seal:
                await seal(store)
            with progress_bar("audit", json_output=args.json) as progress:
                grace = timedelta(seconds=args.grace)
                report = await audit(store, grace=grace, progress=progress)
        finally:
            await engines.dispose()
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            print("\n".join(report.lines()))
        return 0 if report.ok else 1

    return run_async(main, settings.database_url)
