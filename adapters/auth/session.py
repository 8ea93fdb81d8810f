"""Browser sessions for the dashboard: a cookie made from a token at login, plus CSRF.

A session is an ordinary API token (same role, dealer and label as the token that logged
in, so actions are recorded under the same agent name) whose secret travels in an
``HttpOnly``, ``SameSite=Strict`` cookie instead of an ``Authorization`` header. It
expires after :data:`SESSION_LIFETIME` (never later than the token it came from) and
logging out revokes it, so ``dloop-bot token list`` and ``token revoke`` cover sessions too.

A token that arrived in a URL (the one-time login link) is consumed: it is revoked in
the same statement that checks it is still unrevoked, so a link works exactly once.

CSRF: requests authenticated by the cookie that change something must carry the header
``X-CSRF-Token`` equal to the HMAC of the session secret (:func:`csrf_token`). The same
value is set in a script-readable cookie (double submit); since it is derived from the
session secret, a planted cookie cannot forge it. Bearer-token requests need no CSRF
token: a browser never adds an ``Authorization`` header on its own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from multidict import CIMultiDict
from sqlalchemy import update

from adapters.auth.tokens import AuthError, TokenRecord, TokenStore
from adapters.readmodel.tables import api_tokens

SESSION_COOKIE = "dloop_session"
CSRF_COOKIE = "dloop_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=12)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CSRF_CONTEXT = b"dloop-csrf-v1"
_MARGIN = timedelta(seconds=1)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A logged-in browser: the session token, its secret and its CSRF token."""

    record: TokenRecord
    secret: str
    csrf: str


def csrf_token(session_secret: str) -> str:
    """The CSRF token bound to ``session_secret`` (hex HMAC-SHA256)."""
    return hmac.new(session_secret.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_ok(request: web.Request, session_secret: str) -> bool:
    """True when the request's ``X-CSRF-Token`` header matches the session."""
    given = request.headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(given.encode(), csrf_token(session_secret).encode())


class Sessions:
    """Opens and closes sessions on a :class:`TokenStore` (see the module docstring)."""

    def __init__(
        self,
        tokens: TokenStore,
        *,
        lifetime: timedelta = SESSION_LIFETIME,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tokens = tokens
        self.lifetime = lifetime
        self._clock = clock

    async def open(self, secret: str, *, consume: bool) -> Session:
        """A session from an active token; ``consume`` revokes that token (one-time link).

        Raises :class:`AuthError` when the token is unknown, expired, revoked or, with
        ``consume``, already used.
        """
        source = await self.tokens.authenticate(secret)
        now = self._clock()
        if consume:
            await self._consume(source, now)
        lifetime = self.lifetime
        if not consume and source.expires_at is not None:
            # The store adds this to its own "now", read a moment later: keep a margin.
            lifetime = min(lifetime, source.expires_at - now - _MARGIN)
            if lifetime <= timedelta(0):
                raise AuthError("token expired")
        record, session_secret = await self.tokens.create(
            source.role, dealer_id=source.dealer_id, label=source.label, expires_in=lifetime
        )
        return Session(record=record, secret=session_secret, csrf=csrf_token(session_secret))

    async def close(self, session_secret: str) -> None:
        """Revoke the session behind ``session_secret`` (unknown or ended: nothing to do)."""
        try:
            record = await self.tokens.authenticate(session_secret)
        except AuthError:
            return
        await self.tokens.revoke(record.id)

    async def _consume(self, source: TokenRecord, now: datetime) -> None:
        stmt = (
            update(api_tokens)
            .where(api_tokens.c.id == source.id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        async with self.tokens.engines.writer.begin() as conn:
            if (await conn.execute(stmt)).rowcount != 1:
                raise AuthError("token already used")


def set_cookies(response: web.StreamResponse, session: Session, *, secure: bool) -> None:
    """Put the session (HttpOnly) and its CSRF token (readable by the page) in cookies."""
    max_age = max(1, int((_expiry(session) - session.record.created_at).total_seconds()))
    for name, value, httponly in (
        (SESSION_COOKIE, session.secret, True),
        (CSRF_COOKIE, session.csrf, False),
    ):
        response.set_cookie(
            name,
            value,
            path="/",
            samesite="Strict",
            secure=secure,
            httponly=httponly,
            max_age=max_age,
        )


def clear_cookies(response: web.StreamResponse) -> None:
    """Expire both cookies in the browser."""
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.del_cookie(name, path="/", samesite="Strict")


def _expiry(session: Session) -> datetime:
    expires = session.record.expires_at
    return expires if expires is not None else session.record.created_at + SESSION_LIFETIME


@web.middleware
async def session_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let the session cookie stand in for a bearer token under ``/api`` (CSRF on writes).

    A request with an ``Authorization`` header, or without the cookie, passes untouched;
    the API guard then authenticates it as usual.
    """
    if not _is_api(request.path):  # first: /webhook need not parse cookies
        return await handler(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if "Authorization" in request.headers or not secret:
        return await handler(request)
    if request.method not in SAFE_METHODS and not csrf_ok(request, secret):
        message = f"the {CSRF_HEADER} header is missing or wrong for this session"
        return web.json_response({"error": message, "status": 403}, status=403)
    headers = CIMultiDict(request.headers)
    headers["Authorization"] = f"Bearer {secret}"
    return await handler(request.clone(headers=headers))


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")
