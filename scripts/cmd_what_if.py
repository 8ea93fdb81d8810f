"""``dloop-bot what-if``: today's NLU and rules over recorded turns; writes nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.bootstrap_ports import AssistantUnavailableError, build_openai_assistant
from adapters.ops.targets import TargetError, parse_time
from adapters.ops.whatif import rules_of, what_if
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from core.ports import Assistant
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``what-if`` subcommand."""
    parser = sub.add_parser(
        "what-if", help="decide recorded turns again with today's rules and show differences"
    )
    parser.add_argument("--since", help="only turns decided at or after this ISO time")
    parser.add_argument("--engine", choices=("offline", "openai"), default="offline")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every difference; 1 when there is any, 0 when today's rules agree."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    try:
        since = parse_time(args.since) if args.since else None
        assistant: Assistant = (
            OfflineAssistant() if args.engine == "offline" else build_openai_assistant(settings)
        )
    except (TargetError, AssistantUnavailableError) as exc:
        return fail(str(exc))
    catalog = load_catalog(settings.catalog_file)

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            report = await what_if(
                EventStore(engines),
                assistant,
                catalog,
                engine=args.engine,
                since=since,
                rules=rules_of(settings),
            )
        finally:
            await engines.dispose()
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False))
        else:
            print("\n".join(report.lines()))
        return 1 if report.differences else 0

    return run_async(main, settings.database_url)
