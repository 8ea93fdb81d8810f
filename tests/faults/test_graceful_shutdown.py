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

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
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
    started = time.monotonic()
    child.proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(child.proc.wait(), SHUTDOWN_BOUND + 10)
    took = time.monotonic() - started
    assert code == 0, child.log.read_text()[-2000:]
    assert took < SHUTDOWN_BOUND
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
