"""``dloop-bot serve``: run the HTTP service on ``HOST``:``PORT``."""

from __future__ import annotations

import argparse
import gc
from typing import Any

from aiohttp import web

from adapters.bootstrap import build
from adapters.logging import configure_logging
from adapters.store.engine import StoreConfigError, parse_database_url
from adapters.web.app import create_app
from core.partitions import PartitionCountError
from scripts.common import fail, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser = sub.add_parser("serve", help="serve the webhook, simulator and APIs")
    parser.add_argument("--host", help="override HOST")
    parser.add_argument("--port", type=int, help="override PORT")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from the environment and serve it until interrupted."""
    settings = settings_or_exit()
    if isinstance(settings, int):
        return settings
    try:
        parse_database_url(settings.database_url)
    except StoreConfigError as exc:
        return fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(build(settings))
    app.on_startup.append(settle_memory)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    print(
        f"dloop-bot: serving on http://{host}:{port} (database: {settings.database_url.split('://')[0]})"
    )
    # SIGTERM: stop accepting, end live streams, let requests finish (shutdown_grace),
    # then the reactors finish their turns and sends (shutdown_grace again); exit 0.
    try:
        web.run_app(
            app,
            host=host,
            port=port,
            print=None,
            handle_signals=True,
            access_log=None,
            shutdown_timeout=settings.shutdown_grace,
        )
    except PartitionCountError as exc:  # checked at start-up: DLOOP_PARTITIONS vs the database
        return fail(str(exc))
    return 0


async def settle_memory(_app: web.Application) -> None:
    """Move start-up objects out of the collector's reach.

    Full collections over the objects built at start-up (catalogue index, modules)
    took ~100 ms each and set the webhook's p99; frozen, they are never scanned again.
    """
    gc.collect()
    gc.freeze()
