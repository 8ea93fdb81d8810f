"""The open-loop generator: fixed arrivals, overflow counted, Meta-style redelivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from scripts.bench_e2e import free_port
from scripts.loadgen.openloop import OpenLoop
from scripts.loadgen.traffic import Traffic


class Flaky:
    """A webhook endpoint answering 503 to its first ``refuse`` requests, after ``delay`` s."""

    def __init__(self, refuse: int = 0, delay: float = 0.0) -> None:
        self.refuse, self.delay = refuse, delay
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        """Record the body; refuse or accept."""
        body = await request.read()
        await asyncio.sleep(self.delay)
        if self.refuse > 0:
            self.refuse -= 1
            return web.json_response({"error": "unavailable"}, status=503)
        self.bodies.append(body)
        return web.json_response({"status": "recorded"})


Serve = Callable[["Flaky"], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Factory: serve a :class:`Flaky` on a free loopback port; returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(flaky: Flaky) -> str:
        app = web.Application()
        app.router.add_post("/webhook", flaky.handle)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def _traffic() -> Traffic:
    return Traffic("s", phones=20, phone_number_id="1", seed=5)


async def test_arrivals_follow_the_clock_not_the_answers(serve: Serve) -> None:
    """A slow endpoint gets every scheduled arrival; slowness shows as latency from schedule."""
    flaky = Flaky(delay=0.3)
    base = await serve(flaky)
    stats = await OpenLoop([base], _traffic(), rate=50, duration=1.0, drain=5).run()
    assert stats.scheduled == 50
    assert stats.ok == 50
    assert min(stats.latencies) >= 0.3


async def test_arrivals_beyond_the_cap_are_overflow_errors_then_redelivered(serve: Serve) -> None:
    """With 2 in flight at most, the rest overflow; redelivery gets all acknowledged."""
    flaky = Flaky(delay=0.2)
    base = await serve(flaky)
    stats = await OpenLoop([base], _traffic(), rate=40, duration=0.5, cap=2, drain=20).run()
    assert stats.errors["overflow"] > 0
    assert stats.ok < stats.scheduled
    assert not stats.unacked
    assert stats.redelivered_ok > 0


async def test_refused_deliveries_are_redelivered_until_acknowledged(serve: Serve) -> None:
    """503s are not acknowledgements: each refused body comes again and is accepted."""
    flaky = Flaky(refuse=10)
    base = await serve(flaky)
    stats = await OpenLoop([base], _traffic(), rate=40, duration=0.5, drain=20).run()
    assert stats.errors["http_503"] == 10
    assert not stats.unacked
    sent = {d.body for d in stats.acked.values()}
    assert sent == set(flaky.bodies)


async def test_a_dead_target_leaves_everything_unacknowledged() -> None:
    """Connection refused everywhere: nothing acknowledged, all reported unacknowledged."""
    stats = await OpenLoop(
        [f"http://127.0.0.1:{free_port()}"], _traffic(), rate=20, duration=0.5, drain=1.0
    ).run()
    assert stats.ok == 0
    assert stats.errors["connect"] >= 10
    assert len(stats.unacked) == stats.scheduled
