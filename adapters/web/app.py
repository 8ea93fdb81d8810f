"""The application factory: routes, the error middleware and resource lifetimes."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from aiohttp import web
from sqlalchemy import text

from adapters.bootstrap import Deps
from adapters.web import market_webhook, simulate, webhook
from adapters.web.api import setup_api
from adapters.web.dashboard import setup_dashboard
from adapters.web.keys import DEPS, SHUTTING_DOWN

log = structlog.get_logger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _RequestIds:
    """This process's random 64 bits, then a counter: 32 hex digits, as a uuid4's hex was,
    unique without drawing 16 random bytes per request."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


_REQUEST_IDS = _RequestIds()
os.register_at_fork(after_in_child=_REQUEST_IDS.restart)  # a forked child draws its own
new_request_id = _REQUEST_IDS.new


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to the logs; turn HTTP errors and crashes into JSON, never tracebacks."""
    request_id = request.headers.get("X-Request-Id") or new_request_id()
    structlog.contextvars.bind_contextvars(request_id=request_id, path=request.path)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = web.json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("request.failed")
        response = web.json_response(
            {"error": "internal error", "request_id": request_id}, status=500
        )
    finally:
        structlog.contextvars.unbind_contextvars("request_id", "path")
    response.headers.setdefault("X-Request-Id", request_id)
    return response


async def healthz(_request: web.Request) -> web.Response:
    """The process is alive."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """The database answers and no subscriber lags more than ``READY_MAX_LAG`` events."""
    deps = request.app[DEPS]
    try:
        async with deps.engines.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))
        lag = await deps.metrics.refresh_lag(deps.store)
    except Exception as exc:
        return web.json_response({"status": "unavailable", "error": type(exc).__name__}, status=503)
    if lag > deps.settings.ready_max_lag:
        return web.json_response({"status": "lagging", "lag": lag}, status=503)
    return web.json_response({"status": "ready", "lag": lag})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    deps = request.app[DEPS]
    await deps.metrics.refresh_lag(deps.store)
    return web.Response(body=deps.metrics.render(), content_type="text/plain", charset="utf-8")


async def end_long_requests(app: web.Application) -> None:
    """On shutdown (before in-flight requests are awaited) end the live streams.

    An open dashboard stream would otherwise hold the exit up for the whole shutdown
    timeout; browsers reconnect by themselves (``retry:``), to another process.
    """
    app[SHUTTING_DOWN].set()
    notifier = app[DEPS].store.notifier
    notifier.notify(notifier.position)  # wake the streams waiting for new events


def create_app(deps: Deps) -> web.Application:
    """The aiohttp application for ``deps``; no I/O happens until it starts."""
    app = web.Application(middlewares=[errors], client_max_size=deps.settings.max_body_bytes)
    app[DEPS] = deps

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await deps.start()
        yield
        await deps.close()

    app.cleanup_ctx.append(lifetime)
    app[SHUTTING_DOWN] = asyncio.Event()
    app.on_shutdown.append(end_long_requests)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/webhook", webhook.verify)
    app.router.add_post("/webhook", webhook.receive)
    app.router.add_post("/simulate", simulate.simulate)
    app.router.add_post("/market/webhook", market_webhook.receive)
    setup_api(app)
    setup_dashboard(app)
    return app
