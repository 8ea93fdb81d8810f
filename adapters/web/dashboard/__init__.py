"""The support dashboard: one page at ``/`` with its assets, login and logout.

:func:`setup_dashboard` registers the routes. Every answer carries the security headers
of :mod:`adapters.web.dashboard.headers`. The page itself talks to ``/api`` with the
session cookie (see :mod:`adapters.auth.session`) and to ``/simulate``.
"""

from __future__ import annotations

from aiohttp import web

from adapters.auth.session import Sessions
from adapters.web.dashboard import assets, pages
from adapters.web.dashboard.headers import secured
from adapters.web.keys import DEPS


def setup_dashboard(app: web.Application) -> None:
    """Add ``/``, ``/static/{name}``, ``/login`` and ``/logout`` to ``app`` (before it starts)."""
    app[pages.SESSIONS] = Sessions(app[DEPS].tokens)
    app.router.add_get("/", secured(pages.index))
    app.router.add_get("/static/{name}", secured(assets.asset))
    app.router.add_get("/login", secured(pages.login_form))
    app.router.add_post("/login", secured(pages.login_submit))
    app.router.add_post("/logout", secured(pages.logout))
