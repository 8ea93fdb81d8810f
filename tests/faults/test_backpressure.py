"""Past saturation the webhook refuses with 503 at once; nothing acknowledged is lost.

At most ``INGEST_MAX_PENDING`` deliveries wait for the group commit. A second connection
holds the SQLite write lock (as a backup tool would), so the writer is stuck on its first
batch and deliveries pile up: past the bound every further one is answered 503 without
being written, instead of waiting behind the others. When the lock goes, every
acknowledged delivery is recorded and answered exactly once; Meta's redelivery of the
refused ones is recorded once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest

from events.whatsapp import MessageReceived, WebhookReceived
from tests.engine.support import accepted_by_id, replies, wait_until
from tests.faults.conftest import Wired, send_text, signed

pytestmark = pytest.mark.e2e
Wire = Callable[..., Awaitable[Wired]]
PHONES = [f"3934090000{n:02d}" for n in range(12)]
PENDING = 2


async def test_a_full_queue_answers_503_and_loses_or_doubles_nothing(wire: Wire) -> None:
    """Refused at once while the writer is stuck; all acknowledged recorded once; retries too."""
    wired = await wire(ingest_max_pending=PENDING)
    wired.graph.webhook_url = None  # no status webhooks: only our deliveries take places
    for phone in PHONES:  # each person known before the lock: their key is in memory
        assert (await send_text(wired.client, phone, "Buongiorno!"))[0] == 200
    await wait_until(lambda: wired.settled(PHONES), 30)
    path = wired.deps.settings.database_url.split("///", 1)[1]
    bodies = {phone: signed(phone, "Avete le crostate?") for phone in PHONES}
    holder = sqlite3.connect(path, isolation_level=None, timeout=10)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        posts = {
            phone: asyncio.create_task(wired.client.post("/webhook", data=b, headers=h))
            for phone, (b, h, _) in bodies.items()
        }

        async def refusals_back() -> bool:
            return sum(t.done() for t in posts.values()) >= len(PHONES) - PENDING

        await wait_until(refusals_back, 30)  # a loaded machine answers slowly, not wrongly
        await asyncio.sleep(0.5)  # and nothing else comes back while the lock holds
        done = {p: t.result() for p, t in posts.items() if t.done()}
        assert {r.status for r in done.values()} == {503}, "only refusals come back while stuck"
        assert len(done) == len(PHONES) - PENDING  # PENDING in flight: stuck batch and queue
        assert all(r.headers["Retry-After"] == "1" for r in done.values())
    finally:
        holder.execute("COMMIT")
        holder.close()
    answers = {p: await t for p, t in posts.items()}
    acked = {p for p, r in answers.items() if r.status == 200}
    assert len(acked) == PENDING
    for phone in set(PHONES) - acked:  # Meta redelivers what was refused
        body, headers, _ = bodies[phone]
        assert (await wired.client.post("/webhook", data=body, headers=headers)).status == 200
    await wait_until(lambda: wired.settled(PHONES), 30)
    log = await wired.deps.store.read_all(0, 100_000)
    wamids = Counter(e.payload.wamid for e in log if isinstance(e.payload, MessageReceived))
    assert set(wamids) >= {wamid for _, _, wamid in bodies.values()}
    assert set(wamids.values()) == {1}, "every message recorded exactly once"
    deliveries = [e for e in log if isinstance(e.payload, WebhookReceived)]
    assert len(deliveries) == 2 * len(PHONES), "a refused delivery left nothing behind"
    sent = accepted_by_id(wired.graph)
    for phone in PHONES:
        assert all(sent[oid] == 1 for oid in replies(await wired.history(phone)))
