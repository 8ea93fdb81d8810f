"""Security headers on the dashboard, its assets and login; the page has no inline code."""

from __future__ import annotations

import re

import pytest

from adapters.web.dashboard.assets import STATIC_DIR
from tests.dashboard.conftest import Dashboard

pytestmark = pytest.mark.e2e

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize("path", ["/", "/login", "/static/app.js", "/static/app.css"])
async def test_security_headers_everywhere(dashboard: Dashboard, path: str) -> None:
    """Every dashboard answer carries the CSP and the other security headers."""
    await dashboard.login()
    response = await dashboard.client.get(path, allow_redirects=False)
    assert response.status == 200
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


async def test_redirect_to_login_has_security_headers(dashboard: Dashboard) -> None:
    """The redirect of an unauthenticated visitor carries the headers too."""
    response = await dashboard.client.get("/", allow_redirects=False)
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/static/app.js", "text/javascript"), ("/static/app.css", "text/css")],
)
async def test_assets_have_their_content_type(
    dashboard: Dashboard, path: str, content_type: str
) -> None:
    """Scripts and style sheets are served with the type nosniff requires."""
    response = await dashboard.client.get(path)
    assert response.content_type == content_type


@pytest.mark.parametrize(
    "path", ["/static/index.html", "/static/nope.js", "/static/..%2Fsettings.py", "/static/.env"]
)
async def test_only_known_assets_are_served(dashboard: Dashboard, path: str) -> None:
    """Pages, unknown names and path tricks are 404."""
    response = await dashboard.client.get(path)
    assert response.status == 404


@pytest.mark.parametrize("page", ["index.html", "login.html"])
def test_pages_have_no_inline_code(page: str) -> None:
    """No inline script, event handler or style attribute: the CSP would block them."""
    html = (STATIC_DIR / page).read_text(encoding="utf-8")
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert not script.strip()
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert not re.search(r"\sstyle\s*=", html)
    assert "<style" not in html


def test_assets_reach_no_other_host() -> None:
    """The shipped files load nothing from another origin (no CDN)."""
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path.name
        assert 'fetch("http' not in text
