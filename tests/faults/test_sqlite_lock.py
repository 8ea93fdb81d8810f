"""Another process locks the SQLite file for a while: webhooks wait it out, nothing is lost.

A second connection (as a backup tool or a stray ``sqlite3`` shell would) holds an
exclusive write lock for 1.5 s while messages arrive. The service's writer waits on
``busy_timeout`` (10 s) instead of failing, so every delivery is acknowledged once the
lock goes, recorded once and answered once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable

import pytest

from events.whatsapp import MessageReceived
from tests.engine.support import accepted_by_id, replies, wait_until
from tests.faults.conftest import Wired, send_text

pytestmark = pytest.mark.e2e
Wire = Callable[..., Awaitable[Wired]]
PHONES = [f"3934050000{n:02d}" for n in range(5)]


async def test_a_foreign_write_lock_delays_webhooks_without_losing_any(wire: Wire) -> None:
    """All deliveries sent during the lock get 200 after it; each is answered once."""
    wired = await wire()
    path = wired.deps.settings.database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None, timeout=10)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        posts = [asyncio.create_task(send_text(wired.client, p, "Buongiorno!")) for p in PHONES]
        await asyncio.sleep(1.5)
        assert not any(p.done() for p in posts), "nothing is acknowledged while locked out"
    finally:
        holder.execute("COMMIT")
        holder.close()
    answers = await asyncio.gather(*posts)
    assert [status for status, _ in answers] == [200] * len(PHONES)
    await wait_until(lambda: wired.settled(PHONES), 20)
    recorded = [
        e.payload.wamid
        for e in await wired.deps.store.read_all(0, 10_000)
        if isinstance(e.payload, MessageReceived)
    ]
    assert sorted(recorded) == sorted(wamid for _, wamid in answers)
    sent = accepted_by_id(wired.graph)
    for phone in PHONES:
        [oid] = replies(await wired.history(phone))
        assert sent[oid] == 1
