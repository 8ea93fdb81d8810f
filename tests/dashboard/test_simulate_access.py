"""``/simulate`` with ``DASHBOARD_TOKEN`` set: the token, a staff token or a dashboard session.

Every refused request leaves the log untouched (nothing is ingested).
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse

from adapters.auth.session import csrf_token
from adapters.auth.tokens import Role, TokenStore
from tests.dashboard.conftest import CUSTOMER, Dashboard, MakeService

pytestmark = pytest.mark.e2e
DASHBOARD_TOKEN = "dash-secret-for-tests"
MESSAGE = {"from": CUSTOMER, "text": "Ciao dal simulatore"}


@pytest.fixture
async def guarded(make_service: MakeService) -> Dashboard:
    """The service with ``DASHBOARD_TOKEN`` set, no one logged in."""
    client, deps = await make_service(debounce_seconds=0.0, dashboard_token=DASHBOARD_TOKEN)
    return Dashboard(client, deps, TokenStore(deps.engines))


async def simulate(dashboard: Dashboard, **kw: Any) -> ClientResponse:
    """POST the test message to ``/simulate`` (waiting for the bot's reply)."""
    return await dashboard.client.post("/simulate?wait=5", json=MESSAGE, **kw)


async def nothing_ingested(dashboard: Dashboard) -> bool:
    """True while the log is empty."""
    return await dashboard.deps.store.last_position() == 0


async def test_without_credentials_it_is_401_and_nothing_is_ingested(guarded: Dashboard) -> None:
    """No header, no cookie: 401 with a bearer challenge."""
    response = await simulate(guarded)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await nothing_ingested(guarded)


async def test_the_dashboard_token_is_accepted(guarded: Dashboard) -> None:
    """``Authorization: Bearer <DASHBOARD_TOKEN>`` simulates and returns the bot's reply."""
    response = await simulate(guarded, headers={"Authorization": f"Bearer {DASHBOARD_TOKEN}"})
    assert response.status == 200, await response.text()
    assert (await response.json())["replies"]


async def test_a_wrong_bearer_token_is_401(guarded: Dashboard) -> None:
    """A bearer that is neither the dashboard token nor an API token is refused."""
    response = await simulate(guarded, headers={"Authorization": "Bearer nope"})
    assert response.status == 401
    assert await nothing_ingested(guarded)


async def test_a_logged_in_session_with_csrf_is_accepted(guarded: Dashboard) -> None:
    """The dashboard's own call: session cookie plus X-CSRF-Token."""
    csrf = await guarded.login(Role.SUPPORT)
    response = await simulate(guarded, headers={"X-CSRF-Token": csrf})
    assert response.status == 200, await response.text()
    assert (await response.json())["replies"]


async def test_a_session_without_csrf_is_403(guarded: Dashboard) -> None:
    """The cookie alone is not enough for a write: 403, nothing ingested."""
    await guarded.login()
    response = await simulate(guarded)
    assert response.status == 403
    assert "X-CSRF-Token" in (await response.json())["error"]
    assert await nothing_ingested(guarded)


async def test_a_session_with_another_sessions_csrf_is_403(guarded: Dashboard) -> None:
    """A CSRF token that belongs to another session does not fit."""
    await guarded.login()
    response = await simulate(guarded, headers={"X-CSRF-Token": csrf_token("other-session")})
    assert response.status == 403
    assert await nothing_ingested(guarded)


async def test_a_dealer_session_is_403(guarded: Dashboard) -> None:
    """Dealers may not inject customer messages, even logged in with a valid CSRF token."""
    csrf = await guarded.login(Role.DEALER)
    response = await simulate(guarded, headers={"X-CSRF-Token": csrf})
    assert response.status == 403
    assert "dealer" in (await response.json())["error"]
    assert await nothing_ingested(guarded)


async def test_a_logged_out_session_is_401(guarded: Dashboard) -> None:
    """After logout the session's cookie value no longer authenticates."""
    csrf = await guarded.login()
    secret = guarded.session_secret()
    await guarded.client.post("/logout", headers={"X-CSRF-Token": csrf}, allow_redirects=False)
    response = await guarded.client.post(
        "/simulate",
        json=MESSAGE,
        cookies={"dloop_session": secret},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 401
    assert await nothing_ingested(guarded)


async def test_staff_api_tokens_are_accepted_and_dealer_tokens_refused(guarded: Dashboard) -> None:
    """A support token simulates; a dealer token is 403."""
    dealer = await guarded.token(Role.DEALER)
    refused = await simulate(guarded, headers={"Authorization": f"Bearer {dealer}"})
    assert refused.status == 403
    assert await nothing_ingested(guarded)
    support = await guarded.token(Role.SUPPORT)
    response = await simulate(guarded, headers={"Authorization": f"Bearer {support}"})
    assert response.status == 200, await response.text()


async def test_without_a_dashboard_token_simulate_stays_open(dashboard: Dashboard) -> None:
    """Development default: no DASHBOARD_TOKEN, no credentials needed."""
    response = await simulate(dashboard)
    assert response.status == 200, await response.text()
