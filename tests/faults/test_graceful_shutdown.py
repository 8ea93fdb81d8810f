"""SIGTERM while replies are in flight: ``dloop-bot serve`` finishes them, records them, exits 0.

The service runs as a real subprocess on a fresh SQLite file; the fake Graph API (in
this process) takes a second to answer each send, so sends are in flight when the
signal arrives. After a restart nothing is sent twice and whatever was not yet started
goes out.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.store.engine import create_engines
from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OutboundAttempted
from events.whatsapp import MessageReceived
from scripts.bench_e2e import free_port, migrate_url, post_text
from tests.engine.conftest import Spawn
from tests.engine.support import replies, requested_by_id, streams, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
PHONES = [f"3934030000{n:02d}" for n in range(12)]
SHUTDOWN_BOUND = 20.0  # seconds from SIGTERM to exit; the sends take 1 s each


async def test_sigterm_finishes_in_flight_sends_and_exits_zero(
    tmp_path: Path,
    spawn: Spawn,
    graph: FakeGraphApi,
) -> None:
    """Exit 0 within the bound; every acknowledged message recorded; every send that reached
    Meta recorded as sent; after a restart every reply is out, none twice."""
    url = f"sqlite+aiosqlite:///{tmp_path}/shutdown.db"
    await migrate_url(url)
    port = free_port()
    graph.outage(Behaviour.sleep(1.0))
    child, base = await spawn(url, port=port, WHATSAPP_MESSAGES_PER_SECOND="1000")
    acknowledged: list[str] = []
    async with aiohttp.ClientSession() as http:
        for phone in PHONES:
            status, wamid = await post_text(http, base, phone, "Buongiorno!")
            assert status == 200
            acknowledged.append(wamid)

    async def in_flight() -> bool:
        return len(requested_by_id(graph)) >= 3

    await wait_until(in_flight, 20)
    async with aiohttp.ClientSession() as dashboard:
        live = await dashboard.get(  # an open dashboard stream must not hold the exit up
            f"{base}/api/stream", headers={"Authorization": f"Bearer {await _token(url)}"}
        )
        assert live.status == 200
        started = time.monotonic()
        child.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(child.proc.wait(), SHUTDOWN_BOUND + 70)
        took = time.monotonic() - started
        live.close()
    assert code == 0, child.log.read_text()[-2000:]
    assert took < SHUTDOWN_BOUND, f"took {took:.1f} s"
    reached_meta = set(requested_by_id(graph))

    history = await streams(url, PHONES)
    recorded = {
        e.payload.wamid
        for h in history.values()
        for e in h
        if isinstance(e.payload, MessageReceived)
    }
    assert set(acknowledged) <= recorded, "every acknowledged delivery is in the log"
    for phone, h in history.items():
        attempted = {e.payload.outbound_id for e in h if isinstance(e.payload, OutboundAttempted)}
        ended = {e.payload.outbound_id for e in h if isinstance(e.payload, OutboundSent)}
        assert attempted <= ended, f"{phone}: a send was left without its outcome"
        assert not any(isinstance(e.payload, OutboundFailed) for e in h)
    sent_before = {oid for h in history.values() for oid in replies(h)} & reached_meta
    assert sent_before, "some sends were in flight at SIGTERM"

    graph.recover()
    await spawn(url, port=port)

    async def all_sent() -> bool:
        found = await streams(url, PHONES)
        return all(
            replies(h)
            and set(replies(h))
            <= {e.payload.outbound_id for e in h if isinstance(e.payload, OutboundSent)}
            for h in found.values()
        )

    await wait_until(all_sent, 30)
    counts = requested_by_id(graph)
    assert max(counts.values()) == 1, "no reply was sent twice across the restart"


async def _token(url: str) -> str:
    engines = create_engines(url)
    try:
        _, secret = await TokenStore(engines).create(Role.SUPPORT, label="dashboard")
    finally:
        await engines.dispose()
    return secret


async def test_sends_outliving_the_grace_are_cut_and_never_resent(
    tmp_path: Path, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """Meta slower than SHUTDOWN_GRACE_SECONDS: the exit still comes within the grace (plus
    a margin); the cut sends are settled after the restart without a second request."""
    url = f"sqlite+aiosqlite:///{tmp_path}/grace.db"
    await migrate_url(url)
    port = free_port()
    graph.webhook_url = f"http://127.0.0.1:{port}/webhook"
    graph.outage(Behaviour.sleep(6.0))
    child, base = await spawn(url, port=port, SHUTDOWN_GRACE_SECONDS="1")
    phones = PHONES[:3]
    async with aiohttp.ClientSession() as http:
        for phone in phones:
            assert (await post_text(http, base, phone, "Buongiorno!"))[0] == 200

    async def all_in_flight() -> bool:
        return len(requested_by_id(graph)) == len(phones)

    await wait_until(all_in_flight, 20)
    started = time.monotonic()
    child.proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(child.proc.wait(), 30)
    took = time.monotonic() - started
    assert code == 0, child.log.read_text()[-2000:]
    assert took < 5.0, f"took {took:.1f} s with a 1 s grace"
    assert "shutdown.grace_exceeded" in child.log.read_text()
    graph.recover()
    await spawn(url, port=port)

    async def settled() -> bool:
        found = await streams(url, phones)
        return all(
            {e.payload.outbound_id for e in h if isinstance(e.payload, OutboundFailed)}
            >= set(replies(h))
            for h in found.values()
        )

    await wait_until(settled, 30)
    for h in (await streams(url, phones)).values():
        failed = [e.payload for e in h if isinstance(e.payload, OutboundFailed)]
        assert all(f.outcome_unknown for f in failed), "cut mid-send: outcome unknown"
    assert set(requested_by_id(graph).values()) == {1}, "nothing was sent a second time"
