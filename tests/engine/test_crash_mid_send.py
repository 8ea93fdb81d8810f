"""Crash between send and record: the restarted process never sends the message again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OutboundReconciled
from scripts.bench_e2e import free_port, migrate_url, post_text
from tests.engine.conftest import Spawn, pg_database
from tests.engine.support import replies, requested_by_id, streams, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
PHONE = "393401234567"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated SQLite file, then a fresh PostgreSQL database."""
    if request.param == "postgres":
        async for url in pg_database():
            yield url
        return
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    await migrate_url(url)
    yield url


async def test_send_interrupted_by_a_crash_is_not_resent_after_restart(
    database_url: str, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """SIGKILL while Meta is slow to answer: one request only; the attempt ends unknown or
    reconciled by the status webhook, never sent twice."""
    port = free_port()
    graph.webhook_url = f"http://127.0.0.1:{port}/webhook"
    graph.script(Behaviour.sleep(4.0))
    child, base = await spawn(database_url, port=port)
    async with aiohttp.ClientSession() as http:
        status, _wamid = await post_text(http, base, PHONE, "ciao")
    assert status == 200

    async def in_flight() -> bool:
        return bool(requested_by_id(graph))

    await wait_until(in_flight, 30)
    child.kill()
    await child.proc.wait()
    await spawn(database_url, port=port)

    async def resolved() -> bool:
        history = (await streams(database_url, [PHONE]))[PHONE]
        return any(isinstance(e.payload, OutboundFailed | OutboundReconciled) for e in history)

    await wait_until(resolved, 30)
    await wait_until(lambda: _accepted(graph), 30)  # the slow answer lands at last
    await graph.drain()
    history = (await streams(database_url, [PHONE]))[PHONE]
    [oid] = replies(history)
    assert requested_by_id(graph)[oid] == 1
    assert not any(isinstance(e.payload, OutboundSent) for e in history)
    ends = [e.payload for e in history if isinstance(e.payload, OutboundFailed)]
    assert all(f.outcome_unknown for f in ends)


async def _accepted(graph: FakeGraphApi) -> bool:
    return bool(graph.accepted)
