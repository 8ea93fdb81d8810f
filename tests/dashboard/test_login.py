"""Login through a one-time link or the token form, the page behind it, and logout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.auth.session import CSRF_COOKIE, SESSION_COOKIE
from adapters.auth.tokens import AuthError, Role, TokenStore
from tests.dashboard.conftest import Dashboard

pytestmark = pytest.mark.e2e


async def test_unauthenticated_page_redirects_to_login(dashboard: Dashboard) -> None:
    """Without a session, ``/`` sends the browser to ``/login``."""
    response = await dashboard.client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"


async def test_login_page_shows_a_token_form(dashboard: Dashboard) -> None:
    """``GET /login`` without a token answers the form."""
    response = await dashboard.client.get("/login")
    assert response.status == 200
    assert 'name="token"' in await response.text()


async def test_login_link_sets_session_cookies_and_redirects_home(dashboard: Dashboard) -> None:
    """A valid link sets an HttpOnly, SameSite=Strict session and a readable CSRF cookie."""
    response = await dashboard.open_link(await dashboard.token())
    assert response.status == 303
    assert response.headers["Location"] == "/"
    session, csrf = response.cookies[SESSION_COOKIE], response.cookies[CSRF_COOKIE]
    assert session["httponly"] is True
    assert session["samesite"] == "Strict"
    assert session["path"] == "/"
    assert csrf["samesite"] == "Strict"
    assert not csrf["httponly"]


async def test_page_is_served_after_login(dashboard: Dashboard) -> None:
    """With the session cookie ``/`` answers the dashboard, naming the agent."""
    await dashboard.login()
    response = await dashboard.client.get("/", allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    assert '<meta name="dloop-agent" content="marta">' in page
    assert '<script src="/static/app.js" defer></script>' in page


async def test_login_link_works_only_once(dashboard: Dashboard) -> None:
    """The link's token is consumed: a second visit is refused."""
    secret = await dashboard.token()
    assert (await dashboard.open_link(secret)).status == 303
    again = await dashboard.open_link(secret)
    assert again.status == 401
    assert SESSION_COOKIE not in again.cookies


async def test_expired_token_is_refused(dashboard: Dashboard) -> None:
    """A link whose token has expired gives no session."""
    past = datetime.now(UTC) - timedelta(hours=1)
    old = TokenStore(dashboard.deps.engines, clock=lambda: past)
    _, secret = await old.create(Role.ADMIN, label="old", expires_in=timedelta(minutes=15))
    response = await dashboard.open_link(secret)
    assert response.status == 401
    assert "expired" in await response.text()


async def test_revoked_token_is_refused(dashboard: Dashboard) -> None:
    """A link whose token was revoked gives no session."""
    record, secret = await dashboard.tokens.create(Role.ADMIN, label="gone")
    await dashboard.tokens.revoke(record.id)
    response = await dashboard.open_link(secret)
    assert response.status == 401
    assert "revoked" in await response.text()


async def test_unknown_token_is_refused(dashboard: Dashboard) -> None:
    """A made-up token gives no session and an escaped message."""
    response = await dashboard.open_link("<script>alert(1)</script>")
    assert response.status == 401
    page = await response.text()
    assert "<script>alert" not in page


async def test_form_login_keeps_the_token(dashboard: Dashboard) -> None:
    """A token typed into the form opens a session and stays usable afterwards."""
    secret = await dashboard.token(minutes=None)
    response = await dashboard.client.post("/login", data={"token": secret}, allow_redirects=False)
    assert response.status == 303
    assert dashboard.session_secret()
    assert (await dashboard.tokens.authenticate(secret)).label == "marta"


async def test_form_login_from_another_origin_is_refused(dashboard: Dashboard) -> None:
    """A login form posted by another site is refused (login CSRF)."""
    secret = await dashboard.token()
    response = await dashboard.client.post(
        "/login",
        data={"token": secret},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert not dashboard.session_secret()


async def test_form_login_without_token_is_refused(dashboard: Dashboard) -> None:
    """An empty form is answered 422 with the form again."""
    response = await dashboard.client.post("/login", data={}, allow_redirects=False)
    assert response.status == 422
    assert 'name="token"' in await response.text()


async def test_session_never_outlives_the_typed_token(dashboard: Dashboard) -> None:
    """A session opened from a token that expires in 5 minutes expires with it."""
    secret = await dashboard.token(minutes=5)
    await dashboard.client.post("/login", data={"token": secret}, allow_redirects=False)
    source = await dashboard.tokens.authenticate(secret)
    session = await dashboard.tokens.authenticate(dashboard.session_secret())
    assert session.expires_at is not None
    assert source.expires_at is not None
    assert session.expires_at <= source.expires_at


async def test_session_keeps_role_and_agent_name(dashboard: Dashboard) -> None:
    """The session token has the role and label of the token that logged in."""
    await dashboard.login(Role.SUPPORT)
    session = await dashboard.tokens.authenticate(dashboard.session_secret())
    assert (session.role, session.label) == (Role.SUPPORT, "marta")


async def test_logout_revokes_the_session_and_clears_cookies(dashboard: Dashboard) -> None:
    """After logout the old session secret no longer works and the cookies are gone."""
    csrf = await dashboard.login()
    secret = dashboard.session_secret()
    response = await dashboard.client.post(
        "/logout", headers={"X-CSRF-Token": csrf}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    assert response.cookies[SESSION_COOKIE]["max-age"] == "0"
    assert not dashboard.session_secret()
    with pytest.raises(AuthError):
        await dashboard.tokens.authenticate(secret)
    again = await dashboard.client.get(
        "/api/conversations", headers={"Cookie": f"{SESSION_COOKIE}={secret}"}
    )
    assert again.status == 401


async def test_logout_without_csrf_is_refused(dashboard: Dashboard) -> None:
    """A logout without the CSRF token (a cross-site form) keeps the session."""
    await dashboard.login()
    response = await dashboard.client.post("/logout", allow_redirects=False)
    assert response.status == 403
    assert (await dashboard.client.get("/api/conversations")).status == 200


async def test_logout_with_csrf_form_field(dashboard: Dashboard) -> None:
    """A plain form may carry the CSRF token as the ``csrf`` field."""
    csrf = await dashboard.login()
    response = await dashboard.client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 303
    assert not dashboard.session_secret()


async def test_page_after_logout_redirects_to_login(dashboard: Dashboard) -> None:
    """Once logged out, ``/`` sends the browser back to ``/login``."""
    csrf = await dashboard.login()
    await dashboard.client.post("/logout", headers={"X-CSRF-Token": csrf}, allow_redirects=False)
    response = await dashboard.client.get("/", allow_redirects=False)
    assert response.status == 303
