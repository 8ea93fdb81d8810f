"""A running service with helpers to log a browser-like client in through the dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import ClientResponse

from adapters.auth.session import CSRF_COOKIE, SESSION_COOKIE
from adapters.auth.tokens import Role, TokenStore
from adapters.bootstrap import Deps
from tests.e2e.conftest import Client, make_service  # noqa: F401 - the fixture is reused here

CUSTOMER = "+393281234567"


@dataclass
class Dashboard:
    """The service, a token store on its database, and the client's cookies."""

    client: Client
    deps: Deps
    tokens: TokenStore

    async def token(
        self, role: Role = Role.ADMIN, *, label: str = "marta", minutes: int | None = 15
    ) -> str:
        """A fresh token's secret."""
        expires = timedelta(minutes=minutes) if minutes is not None else None
        dealer = "d-pet" if role is Role.DEALER else None
        _, secret = await self.tokens.create(
            role, dealer_id=dealer, label=label, expires_in=expires
        )
        return secret

    async def open_link(self, secret: str) -> ClientResponse:
        """Follow a login link without following its redirect."""
        return await self.client.get("/login", params={"token": secret}, allow_redirects=False)

    async def login(self, role: Role = Role.ADMIN) -> str:
        """Log in through a one-time link; returns the CSRF token the page would read."""
        response = await self.open_link(await self.token(role))
        assert response.status == 303, await response.text()
        return self.cookie(CSRF_COOKIE)

    def cookie(self, name: str) -> str:
        """The value of cookie ``name`` in the client's jar ('' when absent)."""
        for morsel in self.client.session.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return ""

    def session_secret(self) -> str:
        """The session cookie's value."""
        return self.cookie(SESSION_COOKIE)

    async def say(self, phone: str, text: str) -> None:
        """A customer message through ``/simulate`` (so a conversation exists)."""
        response = await self.client.post("/simulate?wait=5", json={"from": phone, "text": text})
        assert response.status == 200, await response.text()


MakeService = Callable[..., Awaitable[tuple[Client, Deps]]]


@pytest.fixture
async def dashboard(make_service: MakeService) -> Dashboard:  # noqa: F811 - the fixture
    """The service with the dashboard, no one logged in."""
    client, deps = await make_service(debounce_seconds=0.0)
    return Dashboard(client, deps, TokenStore(deps.engines))
