"""``dloop-bot replay``: one stream's timeline with its state machine, read-only."""

from __future__ import annotations

import argparse
import json
from typing import Any

from adapters.ops.replay import Until, lines, replay
from adapters.ops.targets import TargetError, parse_until, resolve
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from scripts.common import fail, run_async, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``replay`` subcommand."""
    parser = sub.add_parser("replay", help="replay one stream event by event (read-only)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--phone", help="the customer's phone (+39...)")
    target.add_argument("--conversation", help="a whatsapp_conversations id")
    target.add_argument("--order", help="an order relay id (stream order-<id>)")
    target.add_argument("--stream", help="any stream by name")
    parser.add_argument("--until", help="stop at this position or ISO time (inclusive)")
    parser.add_argument("--verbose", action="store_true", help="show each event's full data")
    parser.add_argument("--json", action="store_true", help="print the timeline as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the timeline; 1 when the fold and the projected row differ, 2 when none."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    try:
        position, time = parse_until(args.until) if args.until else (None, None)
    except TargetError as exc:
        return fail(str(exc))

    async def main() -> int:
        engines = create_engines(settings.database_url)
        try:
            store = EventStore(engines)
            try:
                stream = await resolve(
                    store,
                    phone=args.phone,
                    conversation=args.conversation,
                    order=args.order,
                    stream=args.stream,
                )
            except TargetError as exc:
                return fail(str(exc))
            if await store.stream_version(stream) == 0:
                return fail(f"nothing is recorded for {_named(args)} (stream {stream})")
            result = await replay(store, stream, until=Until(position, time), verbose=args.verbose)
        finally:
            await engines.dispose()
        if args.json:
            print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
        else:
            print("\n".join(lines(result)))
        return 1 if result.differences else 0

    return run_async(main, settings.database_url)


def _named(args: argparse.Namespace) -> str:
    """The target as the operator gave it, for a message."""
    for flag in ("phone", "conversation", "order", "stream"):
        if value := getattr(args, flag):
            return f"--{flag} {value}"
    return "that target"
