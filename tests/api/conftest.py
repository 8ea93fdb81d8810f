"""A running service with a two-dealer catalogue and one token per role, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.auth.tokens import Role, TokenStore
from adapters.bootstrap import Deps
from adapters.readmodel.registry import all_projections
from adapters.web.simulate import text_delivery
from projections.messages import conversation_id
from tests.conftest import person_stream
from tests.e2e.conftest import Client, make_service  # noqa: F401 - the fixture is reused here

CUSTOMER = "+393281234567"
DEALER_A = "+393330000001"
DEALER_B = "+393330000002"
CATALOG = {
    "dealers": [
        {"id": "d-a", "name": "Negozio A", "category": "pets", "phone": DEALER_A},
        {"id": "d-b", "name": "Negozio B", "category": "perfume", "phone": DEALER_B},
    ],
    "products": [
        {
            "id": "p-a1",
            "dealer_id": "d-a",
            "name": "Crocchette per cane",
            "price": 18.9,
            "stock": 5,
        },
        {"id": "p-b1", "dealer_id": "d-b", "name": "Profumo rosa", "price": 30, "stock": 0},
    ],
}


def cid(phone: str) -> str:
    """The conversation id of a phone's conversation."""
    return conversation_id(person_stream(phone))


@dataclass
class Api:
    """The service, its dependencies and a bearer secret per role name."""

    client: Client
    deps: Deps
    secrets: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str | None) -> dict[str, str]:
        """Headers for ``who`` (a role name of :attr:`secrets`), or none."""
        return {} if who is None else {"Authorization": f"Bearer {self.secrets[who]}"}

    async def get(self, path: str, who: str | None = "admin", **kw: Any) -> ClientResponse:
        """GET ``path`` as ``who``."""
        headers = {**self.auth(who), **kw.pop("headers", {})}
        return await self.client.get(path, headers=headers, **kw)

    async def post(self, path: str, who: str | None = "admin", **kw: Any) -> ClientResponse:
        """POST ``path`` as ``who``."""
        headers = {**self.auth(who), **kw.pop("headers", {})}
        return await self.client.post(path, headers=headers, **kw)

    async def json(self, path: str, who: str = "admin", status: int = 200) -> Any:
        """GET ``path`` and return its JSON, checking the status."""
        resp = await self.get(path, who)
        assert resp.status == status, await resp.text()
        return await resp.json()

    async def say(self, phone: str, text: str, wait: float = 0) -> dict[str, Any]:
        """A message from ``phone`` through ``/simulate`` (the signed webhook path)."""
        resp = await self.client.post(f"/simulate?wait={wait}", json={"from": phone, "text": text})
        assert resp.status == 200, await resp.text()
        answer: dict[str, Any] = await resp.json()
        return answer

    async def say_at(self, phone: str, text: str, sent_at: float) -> None:
        """A message from ``phone`` whose Meta timestamp is ``sent_at`` (epoch seconds)."""
        body = text_delivery(phone.lstrip("+"), text)
        body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(sent_at))
        resp = await self.client.post("/simulate", json=body)
        assert resp.status == 200, await resp.text()

    async def settle(self) -> None:
        """Wait until every projection has caught up with the log (reactors included)."""
        names = [f"projection:{p.name}" for p in all_projections()]
        for _ in range(500):
            last = await self.deps.store.last_position()
            done = [await self.deps.store.load_checkpoint(n) for n in names]
            if all(d >= last for d in done):
                await asyncio.sleep(0.05)  # let reactors append what the turn caused
                if await self.deps.store.last_position() == last:
                    return
            await asyncio.sleep(0.02)
        raise AssertionError("projections did not catch up")

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        """Wait until ``check()`` holds (the service works in the background)."""
        for _ in range(500):
            if await check():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("condition never held")


MakeService = Callable[..., Awaitable[tuple[Client, Deps]]]


@pytest.fixture
async def api(make_service: MakeService, tmp_path: Path) -> Api:  # noqa: F811 - the fixture
    """The service with tokens: admin, support, dealer_a, dealer_b."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    client, deps = await make_service(catalog_file=catalog, debounce_seconds=0.0)
    tokens = TokenStore(deps.engines)
    made = Api(client, deps)
    for who, role, dealer in (
        ("admin", Role.ADMIN, None),
        ("support", Role.SUPPORT, None),
        ("dealer_a", Role.DEALER, "d-a"),
        ("dealer_b", Role.DEALER, "d-b"),
    ):
        _, made.secrets[who] = await tokens.create(role, dealer_id=dealer, label=who)
    return made


@pytest.fixture
async def talked(api: Api) -> Api:
    """A customer and both dealers have written; projections are current."""
    await api.say(CUSTOMER, "Buongiorno!", wait=5)
    await api.say(DEALER_A, "Ciao, sono il negozio A")
    await api.say(DEALER_B, "Ciao, sono il negozio B")
    await api.settle()
    return api


def days_ago(days: float) -> float:
    """Epoch seconds ``days`` ago (for messages outside the 24-hour window)."""
    return time.time() - days * 86400
