"""``dloop-bot erase --phone``: crypto-shred one person (docs/adr/0007-crypto-shredding.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.ops.erase import erase_person
from adapters.ops.targets import TargetError, parse_phone
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from scripts.common import fail, run_async, settings_or_exit
from scripts.progress import progress_bar


def register(sub: Any) -> None:
    """Add the ``erase`` subcommand."""
    parser = sub.add_parser(
        "erase", help="erase one person for good: delete their key, rebuild the read tables"
    )
    parser.add_argument("--phone", required=True, help="the person's phone (+39...)")
    parser.add_argument(
        "--no-compact", action="store_true", help="skip the WAL checkpoint and VACUUM"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Erase; 2 when the phone is not a number or no person is held for it."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    try:
        parse_phone(args.phone)
    except TargetError as exc:
        return fail(str(exc))

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            await migrate(engines)
            try:
                with progress_bar("erase", json_output=args.json) as progress:
                    report = await erase_person(
                        EventStore(engines),
                        args.phone,
                        compact=not args.no_compact,
                        progress=progress,
                    )
            except TargetError as exc:
                return fail(str(exc))
        finally:
            await engines.dispose()
        print(json.dumps(report.to_json()) if args.json else report.line())
        return 0

    return run_async(main, settings.database_url)
