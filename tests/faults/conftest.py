"""A service wired to the fake Graph API over real HTTP, and helpers to watch what it did."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.bootstrap import Deps
from adapters.fakes.graph_api import FakeGraphApi
from adapters.meta.signature import HEADER, sign
from adapters.web.simulate import text_delivery
from events.base import RecordedEvent
from tests.e2e.conftest import SECRET, Client, make_service  # noqa: F401 - the fixture is reused
from tests.engine.conftest import graph, spawn  # noqa: F401 - subprocess fixtures reused
from tests.engine.support import outcomes, replies

MakeService = Callable[..., Awaitable[tuple[Client, Deps]]]


def signed(phone_digits: str, text: str) -> tuple[bytes, dict[str, str], str]:
    """A Meta text webhook from ``phone_digits``: body, signed headers and its wamid."""
    doc = text_delivery(phone_digits, text)
    body = json.dumps(doc, ensure_ascii=False).encode()
    wamid = doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return body, {"Content-Type": "application/json", HEADER: sign(body, SECRET)}, wamid


async def send_text(client: Client, phone_digits: str, text: str) -> tuple[int, str]:
    """POST one signed message to ``/webhook``; returns (HTTP status, its wamid)."""
    body, headers, wamid = signed(phone_digits, text)
    resp = await client.post("/webhook", data=body, headers=headers)
    await resp.read()
    return resp.status, wamid


@dataclass
class Wired:
    """The service, its dependencies and the fake Graph API it sends through."""

    client: Client
    deps: Deps
    graph: FakeGraphApi
    admin: str | None = None

    async def history(self, phone_digits: str) -> list[RecordedEvent]:
        """The conversation stream of ``phone_digits``."""
        stream = await self.deps.store.people.stream_of(f"conversation-+{phone_digits}")
        return await self.deps.store.read_stream(stream)

    async def review(self) -> list[dict[str, Any]]:
        """The open review items, read through ``GET /api/review`` with an admin token."""
        if self.admin is None:
            _, self.admin = await TokenStore(self.deps.engines).create(Role.ADMIN, label="faults")
        resp = await self.client.get(
            "/api/review?status=open&limit=200", headers={"Authorization": f"Bearer {self.admin}"}
        )
        assert resp.status == 200, await resp.text()
        items: list[dict[str, Any]] = (await resp.json())["items"]
        return items

    async def review_has(self, kind: str, count: int = 1) -> bool:
        """At least ``count`` open review items of ``kind``."""
        return sum(1 for item in await self.review() if item["kind"] == kind) >= count

    async def settled(self, phones: list[str]) -> bool:
        """Every queued reply of ``phones`` has a final outcome."""
        for phone in phones:
            history = await self.history(phone)
            done = outcomes(history)
            if not replies(history) or not all(done[oid] for oid in replies(history)):
                return False
        return True


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphApi]:
    """The fake Graph API on 127.0.0.1, posting signed status webhooks once told where."""
    fake = FakeGraphApi(app_secret=SECRET)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def wire(
    make_service: MakeService,  # noqa: F811 - the reused fixture
    fake_graph: FakeGraphApi,
) -> Callable[..., Awaitable[Wired]]:
    """Factory: a service sending through ``fake_graph`` (which posts statuses back)."""

    async def made(**overrides: object) -> Wired:
        settings: dict[str, object] = {
            "whatsapp_access_token": fake_graph.access_token,
            "whatsapp_phone_number_id": fake_graph.phone_number_id,
            "whatsapp_api_base": fake_graph.base_url,
            "debounce_seconds": 0.0,
        }
        settings.update(overrides)
        client, deps = await make_service(**settings)
        fake_graph.webhook_url = str(client.make_url("/webhook"))
        return Wired(client, deps, fake_graph)

    return made
