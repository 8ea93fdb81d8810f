"""The session cookie under ``/api``: reads as is, writes only with the CSRF header."""

from __future__ import annotations

import pytest

from adapters.auth.session import SESSION_COOKIE, csrf_token
from adapters.auth.tokens import Role
from projections.messages import conversation_id
from tests.conftest import person_stream
from tests.dashboard.conftest import CUSTOMER, Dashboard

pytestmark = pytest.mark.e2e


def take_over() -> str:
    """The customer's take-over resource (their stream is named by their person id)."""
    return f"/api/conversations/{conversation_id(person_stream(CUSTOMER))}/take-over"


async def test_cookie_authenticates_reads(dashboard: Dashboard) -> None:
    """A GET with only the session cookie is authenticated."""
    await dashboard.login()
    response = await dashboard.client.get("/api/conversations")
    assert response.status == 200


async def test_cookie_post_without_csrf_is_forbidden(dashboard: Dashboard) -> None:
    """A cookie-authenticated POST without ``X-CSRF-Token`` answers 403 and changes nothing."""
    await dashboard.say(CUSTOMER, "Ciao")
    await dashboard.login()
    response = await dashboard.client.post(take_over())
    assert response.status == 403
    body = await response.json()
    assert body["status"] == 403
    assert "X-CSRF-Token" in body["error"]


async def test_cookie_post_with_wrong_csrf_is_forbidden(dashboard: Dashboard) -> None:
    """A CSRF token of another session does not fit this one."""
    await dashboard.say(CUSTOMER, "Ciao")
    await dashboard.login()
    response = await dashboard.client.post(
        take_over(), headers={"X-CSRF-Token": csrf_token("another-session")}
    )
    assert response.status == 403


async def test_cookie_post_with_csrf_is_allowed(dashboard: Dashboard) -> None:
    """With the CSRF header the cookie session acts like its token."""
    await dashboard.say(CUSTOMER, "Ciao")
    csrf = await dashboard.login()
    response = await dashboard.client.post(take_over(), headers={"X-CSRF-Token": csrf})
    assert response.status == 200, await response.text()
    assert (await response.json())["assignee"] == "marta"


async def test_bearer_post_needs_no_csrf(dashboard: Dashboard) -> None:
    """A bearer-token request is unaffected by the CSRF rule, even with a cookie present."""
    await dashboard.say(CUSTOMER, "Ciao")
    await dashboard.login()
    secret = await dashboard.token(label="luca")
    response = await dashboard.client.post(
        take_over(), headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["assignee"] == "luca"


async def test_unknown_cookie_is_unauthorised(dashboard: Dashboard) -> None:
    """A session cookie that names no token is a 401 like a bad bearer token."""
    response = await dashboard.client.get(
        "/api/conversations", headers={"Cookie": f"{SESSION_COOKIE}=dlp_nothing"}
    )
    assert response.status == 401


async def test_dealer_session_keeps_dealer_limits(dashboard: Dashboard) -> None:
    """A dealer's session may not use staff routes (the role travels with the session)."""
    await dashboard.say(CUSTOMER, "Ciao")
    csrf = await dashboard.login(Role.DEALER)
    response = await dashboard.client.post(take_over(), headers={"X-CSRF-Token": csrf})
    assert response.status in {403, 404}
    assert (await dashboard.client.get("/api/counters")).status == 403
