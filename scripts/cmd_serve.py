"""``dloop-bot serve``: run the HTTP service on ``HOST``:``PORT``.

On SQLite with ``DLOOP_ROLE=all`` (the embedded default) and ``SERVE_SPLIT=1``, this
process serves HTTP as ``web`` and supervises one ``worker`` child (the same command with
``--worker-of``) that runs the reactors and projections: see ``adapters/worker_process.py``
and ADR 0022. ``DLOOP_ROLE=worker`` runs the reactors without HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import os
import signal
import sys
from typing import Any

import uvloop
from aiohttp import web

from adapters.bootstrap import build
from adapters.logging import configure_logging
from adapters.settings import Settings
from adapters.store.engine import StoreConfigError, parse_database_url
from adapters.web.app import create_app
from adapters.worker_process import WorkerSupervisor, die_with_parent
from core.partitions import PartitionCountError
from scripts.common import fail, settings_or_exit


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser = sub.add_parser("serve", help="serve the webhook, simulator and APIs")
    parser.add_argument("--host", help="override HOST")
    parser.add_argument("--port", type=int, help="override PORT")
    parser.add_argument("--worker-of", type=int, metavar="PID", help=argparse.SUPPRESS)
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
    if settings.role == "worker":
        if args.worker_of is not None:
            die_with_parent(args.worker_of)
        try:
            return asyncio.run(work(settings, projections=args.worker_of is None))
        except PartitionCountError as exc:  # DLOOP_PARTITIONS vs the database, at start-up
            return fail(str(exc))
    supervisor = None
    if settings.role == "all" and settings.serve_split and _sqlite(settings.database_url):
        supervisor = _supervisor(settings)
        settings = dataclasses.replace(settings, role="web")
    deps = build(settings)
    if supervisor is not None:
        deps.run_workers = True  # projections beside ingestion: see work()
    app = create_app(deps)
    app.on_startup.append(settle_memory)
    if supervisor is not None:
        _supervise(app, supervisor)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    split = " with a worker process" if supervisor is not None else ""
    print(
        f"dloop-bot: serving on http://{host}:{port}{split}"
        f" (database: {settings.database_url.split('://')[0]})"
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
            loop=new_event_loop(settings.event_loop),
        )
    except PartitionCountError as exc:  # checked at start-up: DLOOP_PARTITIONS vs the database
        return fail(str(exc))
    return 0


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """The loop ``serve`` runs on: uvloop (libuv; measured faster, ADR 0021) or asyncio's own."""
    return uvloop.new_event_loop() if kind == "uvloop" else asyncio.new_event_loop()


async def settle_memory(_app: web.Application | None) -> None:
    """Move start-up objects out of the collector's reach.

    Full collections over the objects built at start-up (catalogue index, modules)
    took ~100 ms each and set the webhook's p99; frozen, they are never scanned again.
    """
    gc.collect()
    gc.freeze()


def _sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _supervisor(settings: Settings) -> WorkerSupervisor:
    """The worker child: this very command with ``--worker-of`` our pid."""
    command = [sys.executable, "-m", "scripts.cli", "serve", "--worker-of", str(os.getpid())]
    # The child's own grace covers its requests (none) and its reactors: twice, plus slack.
    return WorkerSupervisor(command, os.environ, stop_timeout=2 * settings.shutdown_grace + 10)


def _supervise(app: web.Application, supervisor: WorkerSupervisor) -> None:
    """Start the worker with the app; on shutdown tell it at once, wait for it last."""

    async def lifetime(_app: web.Application) -> Any:
        await supervisor.start()
        yield
        await supervisor.stop()

    async def tell(_app: web.Application) -> None:
        supervisor.terminate()  # its grace runs while ours does

    app.cleanup_ctx.insert(0, lifetime)  # cleaned up last: after the web side closed
    app.on_shutdown.append(tell)


async def work(settings: Settings, *, projections: bool = True) -> int:
    """``DLOOP_ROLE=worker``: run the reactors (and projections) until SIGTERM or SIGINT.

    ``serve``'s own worker child leaves the projections to its parent: their write
    transactions hold SQLite's one write lock across many awaits, which a loop busy with
    conversation turns stretches, and the webhook's commits waited behind them.
    """
    deps = build(settings)
    deps.run_workers = projections
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await deps.start()
    await settle_memory(None)
    try:
        await stop.wait()
    finally:
        await deps.close()
    return 0
