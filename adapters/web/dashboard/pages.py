"""The dashboard page, login and logout.

``GET /`` serves the single-page dashboard to a browser with a live session and sends
everyone else to ``/login``. ``GET /login?token=...`` is the one-time link printed by
``dloop-bot login-link``: the token is consumed, a session cookie is set and the browser
goes to ``/``. ``GET /login`` without a token shows a form; ``POST /login`` with a token
typed there opens a session without consuming the token. ``POST /logout`` (CSRF header
or form field required when a session exists) revokes the session and clears the cookies.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from adapters.auth.session import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Session,
    Sessions,
    clear_cookies,
    csrf_token,
    set_cookies,
)
from adapters.auth.tokens import AuthError, TokenRecord
from adapters.web.dashboard.assets import render_page

SESSIONS = web.AppKey("dashboard_sessions", Sessions)
MAX_TOKEN_LENGTH = 512


def _html(text: str, *, status: int = 200) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(message: str = "", *, status: int = 200) -> web.Response:
    return _html(render_page("login.html", {"message": message}), status=status)


def _to(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    response.headers["Cache-Control"] = "no-store"
    return response


async def current(request: web.Request) -> TokenRecord | None:
    """The session token of the request's cookie, if it is still active."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return await request.app[SESSIONS].tokens.authenticate(secret)
    except AuthError:
        return None


async def index(request: web.Request) -> web.Response:
    """``GET /``: the dashboard, or a redirect to ``/login`` without a live session."""
    record = await current(request)
    if record is None:
        response = _to("/login")
        clear_cookies(response)
        return response
    values = {"agent": record.agent, "role": record.role.value}
    return _html(render_page("index.html", values))


async def login_form(request: web.Request) -> web.Response:
    """``GET /login``: consume a one-time ``?token=`` link, or show the token form."""
    secret = request.query.get("token")
    if secret is None:
        return _login_page()
    return await _open(request, secret, consume=True)


async def login_submit(request: web.Request) -> web.Response:
    """``POST /login``: open a session from a token typed into the form."""
    if not _same_origin(request):
        return _login_page("Richiesta da un'altra origine / Cross-origin request", status=403)
    form = await request.post()
    secret = form.get("token")
    if not isinstance(secret, str):
        return _login_page("Inserisci un token / Enter a token", status=422)
    return await _open(request, secret, consume=False)


async def _open(request: web.Request, secret: str, *, consume: bool) -> web.Response:
    secret = secret.strip()
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return _login_page("Token non valido / Invalid token", status=401)
    try:
        session: Session = await request.app[SESSIONS].open(secret, consume=consume)
    except AuthError as exc:
        return _login_page(f"Accesso negato / Access denied: {exc}", status=401)
    response = _to("/")
    set_cookies(response, session, secure=request.secure)
    return response


async def logout(request: web.Request) -> web.Response:
    """``POST /logout``: revoke the session and clear its cookies (CSRF-checked)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        given = request.headers.get(CSRF_HEADER)
        if given is None:
            form = await request.post()
            field = form.get("csrf")
            given = field if isinstance(field, str) else ""
        if not hmac.compare_digest(given.encode(), csrf_token(secret).encode()):
            return web.json_response(
                {"error": f"the {CSRF_HEADER} header is missing or wrong", "status": 403},
                status=403,
            )
        await request.app[SESSIONS].close(secret)
    response = _to("/login")
    clear_cookies(response)
    return response


def _same_origin(request: web.Request) -> bool:
    """False when the browser says the form was posted from another origin."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"
