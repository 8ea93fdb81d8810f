"""``dloop-bot export --phone``: everything held about one person as JSON (read-only)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adapters.ops.export import export_person
from adapters.ops.targets import TargetError, parse_phone
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``export`` subcommand."""
    parser = sub.add_parser("export", help="export everything held about one person as JSON")
    parser.add_argument("--phone", required=True, help="the person's phone (+39...)")
    parser.add_argument("--out", type=Path, help="write to this file instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the export document; 2 when the phone is not a number or nothing is held."""
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
            document = await export_person(EventStore(engines), args.phone)
        finally:
            await engines.dispose()
        if not any(document[k] for k in ("events", "webhook_bodies", "related_events", "rows")):
            return fail(f"nothing is held about {args.phone}")
        rendered = json.dumps(document, ensure_ascii=False, indent=2)
        if args.out is None:
            sys.stdout.write(rendered + "\n")
        else:
            args.out.write_text(rendered + "\n", encoding="utf-8")
            counts = f"{len(document['events'])} events, {len(document['webhook_bodies'])} bodies"
            print(f"export: {counts} written to {args.out}", file=sys.stderr)
        return 0

    return run_async(main, settings.database_url)
