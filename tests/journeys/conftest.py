"""Journeys through the real HTTP surface: ``/simulate`` (signed like Meta's webhooks),
the sandbox messenger, and local fakes of the Dloop market API and FCM.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import Deps, load_catalog
from adapters.fakes.fcm import FakeFcm
from adapters.fakes.graph_api import FakeGraphApi
from adapters.fakes.market_api import FakeMarketApi
from adapters.meta.sandbox import SandboxSent
from adapters.meta.signature import sign
from adapters.ops.whatif import rules_of, what_if
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Client
from tests.support.fcm import fake_fcm

CUSTOMER = "+393281234567"
PET = "+39328185464"  # Toelettatura Pet (d-pet) in the demo catalogue
PHARMACY = "+393209876543"  # Farmacia Centrale (d-farmacia)
Make = Callable[..., Awaitable[tuple[Client, Deps]]]
PATIENCE = 10.0  # seconds a journey waits for an asynchronous message before failing
DELIVERY = "via Torino 15, Milano, lunedì alle 10, pago in contanti"  # always in opening hours


def _delivery(phone: str, message: dict[str, Any]) -> dict[str, Any]:
    digits = phone.lstrip("+")
    base = {"from": digits, "id": f"wamid.J{uuid.uuid4().hex}", "timestamp": str(int(time.time()))}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390000000000", "phone_number_id": "SIMULATED"},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": digits}],
        "messages": [{**base, **message}],
    }
    entry = {"id": "WABA", "changes": [{"field": "messages", "value": value}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


@dataclass
class Journey:
    """A running service and helpers to talk to it as customers and dealers."""

    client: Client
    deps: Deps

    async def say(self, phone: str, text: str, wait: float = 5) -> list[dict[str, Any]]:
        """Send ``text`` from ``phone``; the replies sent back to ``phone`` within ``wait``."""
        resp = await self.client.post(f"/simulate?wait={wait}", json={"from": phone, "text": text})
        assert resp.status == 200, await resp.text()
        replies: list[dict[str, Any]] = (await resp.json()).get("replies", [])
        return replies

    async def confirm(self, phone: str, details: str = DELIVERY) -> None:
        """Confermo, then (once the bot asks for the address) the delivery details."""
        before = len(self.sent(phone))
        await self.say(phone, "Confermo", wait=0)
        await self.next_to(phone, before, contains="indirizzo")
        await self.say(phone, details, wait=0)

    async def post(self, phone: str, message: dict[str, Any]) -> None:
        """Post a full Meta-shaped message (buttons, catalog orders) through ``/simulate``."""
        resp = await self.client.post("/simulate", json=_delivery(phone, message))
        assert resp.status == 200, await resp.text()

    async def press(self, phone: str, button_id: str, title: str) -> None:
        """Tap a reply button."""
        reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
        await self.post(phone, {"type": "interactive", "interactive": reply})

    async def order(self, phone: str, items: list[dict[str, Any]]) -> None:
        """Send a WhatsApp catalog cart."""
        await self.post(
            phone, {"type": "order", "order": {"catalog_id": "CAT1", "product_items": items}}
        )

    def sent(self, phone: str) -> list[SandboxSent]:
        """Everything the sandbox sent to ``phone`` so far."""
        return list(self.deps.sandbox.sent_to(phone))

    async def next_to(self, phone: str, after: int, *, contains: str = "") -> SandboxSent:
        """Wait for a message to ``phone``, past the first ``after``, holding ``contains``."""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            for message in self.sent(phone)[after:]:
                if contains in body(message):
                    return message
            await asyncio.sleep(0.02)
        texts = [body(m) for m in self.sent(phone)]
        raise AssertionError(f"nothing with {contains!r} reached {phone}; got {texts}")

    async def stream(self, name: str) -> list[Any]:
        """The payloads of one stream (a phone's conversation found through its person)."""
        name = await self.deps.store.people.stream_of(name)
        return [e.payload for e in await self.deps.store.read_stream(name)]

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        """Wait until ``check`` holds (asynchronous work settles), or fail."""
        await until(check)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check`` holds, or fail after :data:`PATIENCE` seconds."""
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


def body(message: SandboxSent | dict[str, Any]) -> str:
    """The text a recipient reads: text body, interactive body or template name."""
    p = message.payload if isinstance(message, SandboxSent) else message
    if p.get("type") == "text":
        return str(p["text"]["body"])
    if p.get("type") == "interactive":
        return str(p["interactive"]["body"]["text"])
    if p.get("type") == "template":
        return str(p["template"]["name"])
    return json.dumps(p)


def buttons(message: SandboxSent | dict[str, Any]) -> list[tuple[str, str]]:
    """``(id, title)`` of an interactive message's buttons."""
    p = message.payload if isinstance(message, SandboxSent) else message
    action = p.get("interactive", {}).get("action", {})
    return [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]


@pytest.fixture
async def make_service(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Make]:
    """The e2e service factory; when the journey ends, ``what-if`` replays its whole log
    (a test's own database fixture comes first in its arguments, so it outlives this).

    Every journey's log is decided again by the same runner and decider (offline NLU, the
    service's catalogue file and shop facts) and must give zero differences: what-if
    cannot drift from the reactor (issue 14).
    """
    made: list[Deps] = []
    start = await e2e.make_service.__wrapped__(tmp_path, aiohttp_client)  # type: ignore[attr-defined]

    async def make(**overrides: object) -> tuple[Client, Deps]:
        client, deps = await start(**overrides)
        made.append(deps)
        return client, deps

    yield make
    for deps in made:
        await what_if_agrees(deps)


async def what_if_agrees(deps: Deps) -> None:
    """``what-if`` over the service's log with unchanged rules finds no difference.

    Services reading with OpenAI (a fake server the test may have closed) are left out.
    """
    if deps.settings.openai_api_key:
        return
    report = await what_if(
        deps.store,
        OfflineAssistant(),
        load_catalog(deps.settings.catalog_file),
        rules=rules_of(deps.settings),
    )
    assert report.differences == [], "\n".join(report.lines())


@pytest.fixture
def journey_factory(make_service: Make) -> Callable[..., Awaitable[Journey]]:
    """Start the service with test settings (no debounce) plus ``overrides``."""

    async def start(**overrides: Any) -> Journey:
        client, deps = await make_service(debounce_seconds=0.0, **overrides)
        return Journey(client, deps)

    return start


@pytest.fixture
async def market_api() -> AsyncIterator[FakeMarketApi]:
    """A fake market API on 127.0.0.1."""
    fake = FakeMarketApi()
    await fake.start()
    yield fake
    await fake.close()


@dataclass
class FcmSetup:
    """The fake FCM and the service-account file pointing at it."""

    fake: FakeFcm
    credentials: Path


@pytest.fixture
async def fcm(tmp_path: Path) -> AsyncIterator[FcmSetup]:
    """A fake FCM + token endpoint and a real RSA service account whose signature it checks."""
    async with fake_fcm() as (fake, account):
        path = tmp_path / "service-account.json"
        path.write_text(json.dumps(account), encoding="utf-8")
        yield FcmSetup(fake=fake, credentials=path)


@dataclass
class GraphJourney:
    """A service sending through the real Graph API client to a fake Graph API.

    Messages come in as webhooks signed with the app secret, like Meta's.
    """

    client: Client
    deps: Deps
    graph: FakeGraphApi

    async def post(self, phone: str, message: dict[str, Any]) -> None:
        """Post one Meta-shaped message to ``/webhook`` with a valid signature."""
        raw = json.dumps(_delivery(phone, message)).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, e2e.SECRET)}
        resp = await self.client.post("/webhook", data=raw, headers=headers)
        assert resp.status == 200, await resp.text()

    async def say(self, phone: str, text: str) -> None:
        """A text message from ``phone``."""
        await self.post(phone, {"type": "text", "text": {"body": text}})

    async def pick(self, phone: str, kind: str, choice_id: str, title: str) -> None:
        """Tap a reply button (``button_reply``) or a list row (``list_reply``)."""
        reply = {"type": kind, kind: {"id": choice_id, "title": title}}
        await self.post(phone, {"type": "interactive", "interactive": reply})

    def sent(self, phone: str) -> list[dict[str, Any]]:
        """Bodies the fake Graph API accepted for ``phone``."""
        return [b for b in self.graph.accepted if b.get("to") == phone]

    async def next_to(self, phone: str, after: int, *, contains: str = "") -> dict[str, Any]:
        """Wait for a send to ``phone`` past the first ``after`` whose text holds ``contains``."""
        deadline = asyncio.get_running_loop().time() + PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            for sent in self.sent(phone)[after:]:
                if contains in body(sent):
                    return sent
            await asyncio.sleep(0.02)
        got = [body(m) for m in self.sent(phone)]
        raise AssertionError(f"nothing with {contains!r} reached {phone}; got {got}")

    async def stream(self, name: str) -> list[Any]:
        """The payloads of one stream (a phone's conversation found through its person)."""
        name = await self.deps.store.people.stream_of(name)
        return [e.payload for e in await self.deps.store.read_stream(name)]


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    """A fake Graph API on 127.0.0.1."""
    fake = FakeGraphApi()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def graph_journey(
    make_service: Make, graph: FakeGraphApi
) -> Callable[..., Awaitable[GraphJourney]]:
    """Start the service with Graph API credentials pointing at the fake (no debounce)."""

    async def start(**overrides: Any) -> GraphJourney:
        client, deps = await make_service(
            debounce_seconds=0.0,
            whatsapp_access_token=graph.access_token,
            whatsapp_phone_number_id=graph.phone_number_id,
            whatsapp_api_base=graph.base_url,
            **overrides,
        )
        return GraphJourney(client, deps, graph)

    return start
