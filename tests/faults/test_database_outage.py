"""PostgreSQL goes away during traffic and comes back: 503s meanwhile, nothing lost after.

The shared PostgreSQL server is never stopped: the service reaches it through a
:class:`~adapters.fakes.tcp_proxy.FaultyProxy` that refuses and cuts connections for a
while. A sender posts signed webhooks throughout and, like Meta, redelivers every one
that did not get a 200. The service is never restarted.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest

from adapters.fakes.tcp_proxy import FaultyProxy
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.subscriptions import PgListener
from adapters.store.types import Expect
from events.base import NewEvent
from events.whatsapp import MessageReceived
from scripts.bench_e2e import drop_database, fresh_database
from tests.conftest import IN_CI
from tests.engine.support import accepted_by_id, covered, messages, replies, wait_until
from tests.faults.conftest import Wired, signed
from tests.support.sample_events import Noted

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]
Wire = Callable[..., Awaitable[Wired]]
PHONES = [f"3934020000{n:02d}" for n in range(40)]


@pytest.fixture
async def proxied_pg() -> AsyncIterator[tuple[FaultyProxy, str]]:
    """A fresh migrated database and its URL through a fault-injecting proxy."""
    try:
        direct = await fresh_database()
    except OSError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    host_port = direct.split("@", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    proxy = FaultyProxy(host, int(port))
    await proxy.start()
    yield proxy, direct.replace(f"@{host_port}/", f"@127.0.0.1:{proxy.port}/")
    await proxy.close()
    await drop_database(direct)


@dataclass
class Traffic:
    """What the sender posted: wamid -> statuses answered, and every 200-acknowledged wamid."""

    answers: dict[str, list[int]] = field(default_factory=dict)
    bodies: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)

    @property
    def acknowledged(self) -> set[str]:
        """Wamids that got a 200 at least once."""
        return {w for w, got in self.answers.items() if 200 in got}

    @property
    def refused(self) -> set[str]:
        """Wamids that never got a 200 (yet)."""
        return set(self.answers) - self.acknowledged


async def _post(http: aiohttp.ClientSession, url: str, traffic: Traffic, wamid: str) -> None:
    body, headers = traffic.bodies[wamid]
    async with http.post(url, data=body, headers=headers) as resp:
        await resp.read()
        traffic.answers.setdefault(wamid, []).append(resp.status)


async def _send(wired: Wired, traffic: Traffic, stop: asyncio.Event) -> None:
    """Two messages from each phone in turn, one every 40 ms, until told to stop."""
    url = str(wired.client.make_url("/webhook"))
    async with aiohttp.ClientSession() as http:
        for round_ in range(2):
            for phone in PHONES:
                if stop.is_set():
                    return
                body, headers, wamid = signed(phone, f"Buongiorno! ({round_})")
                traffic.bodies[wamid] = (body, headers)
                await _post(http, url, traffic, wamid)
                await asyncio.sleep(0.04)


async def _ready(wired: Wired) -> int:
    resp = await wired.client.get("/readyz")
    await resp.read()
    return resp.status


async def test_database_outage_answers_503_loses_nothing_and_recovers(
    wire: Wire, proxied_pg: tuple[FaultyProxy, str]
) -> None:
    """During the outage: 503s and an unready /readyz; after it: redeliveries succeed,
    every acknowledged message is in the log once, every reply is sent once."""
    proxy, url = proxied_pg
    wired = await wire(database_url=url)
    traffic, stop = Traffic(), asyncio.Event()
    sender = asyncio.create_task(_send(wired, traffic, stop))
    await asyncio.sleep(1.0)
    await proxy.go_down()
    await asyncio.sleep(0.3)
    assert await _ready(wired) == 503, "/readyz reports the outage"
    await asyncio.sleep(1.5)
    down_answers = [s for got in traffic.answers.values() for s in got]
    await proxy.come_up()
    await wait_until(lambda: _is_ready(wired), 20)
    await sender
    assert 503 in down_answers, "webhooks were refused with 503 while the database was away"
    assert set(down_answers) <= {200, 503}, "nothing but 200 or 503"
    refused = sorted(traffic.refused)
    assert refused, "some deliveries were refused"
    async with aiohttp.ClientSession() as http:  # Meta redelivers what was not acknowledged
        for wamid in refused:
            await _post(http, str(wired.client.make_url("/webhook")), traffic, wamid)
    assert traffic.refused == set(), "every redelivery succeeded"
    await wait_until(lambda: _all_answered(wired), 60)
    recorded = [
        e.payload.wamid
        for e in await wired.deps.store.read_all(0, 100_000)
        if isinstance(e.payload, MessageReceived)
    ]
    assert sorted(recorded) == sorted(traffic.answers), "every message in the log exactly once"
    sent = accepted_by_id(wired.graph)
    assert sent, "replies went out"
    assert max(sent.values()) == 1, "no reply sent twice"


async def _is_ready(wired: Wired) -> bool:
    return await _ready(wired) == 200


async def _all_answered(wired: Wired) -> bool:
    """Every message is covered by a turn and every reply has reached the fake Graph API."""
    sent = accepted_by_id(wired.graph)
    for phone in PHONES:
        history = await wired.history(phone)
        if not messages(history) or set(messages(history)) - set(covered(history)):
            return False
        if any(sent[oid] == 0 for oid in replies(history)):
            return False
    return True


async def test_listen_connection_comes_back_after_an_outage(
    proxied_pg: tuple[FaultyProxy, str],
) -> None:
    """Cross-process wake-ups (LISTEN/NOTIFY) work again after the database was away."""
    proxy, url = proxied_pg
    proxied = create_engines(url)
    direct = create_engines(proxied_url_to_direct(url, proxy))
    listening, writing = EventStore(proxied), EventStore(direct)
    listener = PgListener(listening, check_interval=0.1)
    await listener.start()
    try:
        await proxy.go_down()
        await asyncio.sleep(0.5)
        await proxy.come_up()

        async def reconnected() -> bool:
            return listener.reconnects >= 1

        await wait_until(reconnected, 10)
        result = await writing.append("s", Expect.ANY, [_event()])
        position = result.appended[0].position

        async def woken() -> bool:
            return listening.notifier.position >= position

        await wait_until(woken, 5)
    finally:
        await listener.stop()
        await proxied.dispose()
        await direct.dispose()


def proxied_url_to_direct(url: str, proxy: FaultyProxy) -> str:
    """The same database reached without the proxy."""
    host, port = proxy.target
    return url.replace(f"@127.0.0.1:{proxy.port}/", f"@{host}:{port}/")


def _event() -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), payload=Noted(text="x"))
