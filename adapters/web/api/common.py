"""What every ``/api`` handler shares: keys, the guard middleware, errors, JSON, parameters.

The guard authenticates every request under ``/api`` (bearer token: 401 when missing,
unknown, expired or revoked) and turns our exceptions into one JSON error shape,
``{"error": message, "status": code, ...}``: bad input 422, not allowed 403, missing 404,
illegal state 409 (``DomainError`` from the pure core included).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from adapters.auth.tokens import AuthError, Role, TokenRecord, TokenStore
from adapters.readmodel.queries import (
    NotFoundError,
    NotVisibleError,
    QueryError,
    ReadModel,
    Scope,
    StateConflictError,
)
from adapters.web.keys import DEPS
from core.conversation import OutsideServiceWindowError
from core.machines import DomainError
from core.phones import normalize_phone

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PREFIX = "/api"


@dataclass(slots=True)
class StreamOptions:
    """Tuning of ``/api/stream`` (mutable so tests can shorten the heartbeat)."""

    heartbeat: float = 15.0
    batch: int = 500


TOKENS = web.AppKey("api_tokens", TokenStore)
READ_MODEL = web.AppKey("api_read_model", ReadModel)
STREAM_OPTIONS = web.AppKey("api_stream_options", StreamOptions)
PRINCIPAL = web.RequestKey("api_principal", TokenRecord)


class ApiError(Exception):
    """An error answer with a status, a message and optional extra fields."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def response(self) -> web.Response:
        """The JSON error answer."""
        body = {"error": self.message, "status": self.status, **self.extra}
        response = json_response(body, status=self.status)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="dloop"'
        return response


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> str:
    """JSON text for API bodies (datetimes ISO 8601, Decimals as strings)."""
    return json.dumps(value, default=_default, ensure_ascii=False)


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """A JSON answer encoded with :func:`dumps`."""
    return web.json_response(body, status=status, dumps=dumps)


def _mapped(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AuthError):
        return ApiError(401, str(exc))
    if isinstance(exc, QueryError):
        return ApiError(422, str(exc))
    if isinstance(exc, NotVisibleError):
        return ApiError(403, str(exc))
    if isinstance(exc, NotFoundError):
        return ApiError(404, str(exc))
    if isinstance(exc, OutsideServiceWindowError):
        return ApiError(409, str(exc), hint="send an approved template instead")
    if isinstance(exc, DomainError | StateConflictError):
        return ApiError(409, str(exc))
    if isinstance(exc, web.HTTPException) and exc.status >= 400:
        return ApiError(exc.status, exc.reason)
    return None


@web.middleware
async def api_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate ``/api`` requests and answer our errors as JSON (see the module)."""
    if request.path != API_PREFIX and not request.path.startswith(API_PREFIX + "/"):
        return await handler(request)
    try:
        request[PRINCIPAL] = await request.app[TOKENS].authenticate(_bearer(request))
        _no_control_characters(request)
        return await handler(request)
    except Exception as exc:
        mapped = _mapped(exc)
        if mapped is None:
            raise
        return mapped.response()


def _no_control_characters(request: web.Request) -> None:
    """422 for control characters in path or query: never in an id, and PostgreSQL
    refuses NUL in text (it would surface as a 500)."""
    values = [*request.match_info.values(), *request.query.keys(), *request.query.values()]
    if any(_CONTROL.search(v) for v in values):
        raise ApiError(422, "control characters are not allowed in the path or query")


def _bearer(request: web.Request) -> str:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthError("a bearer token is required (Authorization: Bearer <token>)")
    return secret.strip()


def allow(roles: Collection[Role], handler: Handler) -> Handler:
    """``handler`` answering 403 to tokens whose role is not in ``roles``."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        role = request[PRINCIPAL].role
        if role not in roles:
            raise ApiError(403, f"the {role.value} role may not use this route")
        return await handler(request)

    guarded.__doc__ = handler.__doc__
    return guarded


def scope_of(request: web.Request) -> Scope:
    """The rows the caller may read (a dealer token: its dealer's only)."""
    principal = request[PRINCIPAL]
    if principal.role is not Role.DEALER:
        return Scope.everything()
    dealer_id = principal.dealer_id or ""
    dealer = request.app[DEPS].catalog.dealer(dealer_id)
    return Scope.dealer(dealer_id, normalize_phone(dealer.phone) if dealer else None)


# -- query parameters --------------------------------------------------------------------


def only_params(request: web.Request, allowed: Iterable[str]) -> None:
    """422 for a query parameter the route does not know (a typo must not widen a query)."""
    unknown = sorted(set(request.query) - set(allowed))
    if unknown:
        raise ApiError(422, f"unknown query parameter: {', '.join(unknown)}")


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high]."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ApiError(422, f"{name} must be between {low} and {high}, got {value}")
    return value


def choice_param(request: web.Request, name: str, allowed: Collection[str]) -> str | None:
    """A query parameter restricted to ``allowed`` values."""
    raw = request.query.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        raise ApiError(422, f"{name} must be one of {', '.join(sorted(allowed))}, got {raw!r}")
    return raw


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"^[A-Za-z0-9_.:+@ -]{1,128}$")


def text_param(request: web.Request, name: str, *, max_len: int = 128) -> str | None:
    """A short free-text query parameter (ids, names, search words)."""
    raw = request.query.get(name)
    if raw is None:
        return None
    value = raw.strip()
    if not value or len(value) > max_len:
        raise ApiError(422, f"{name} must have 1 to {max_len} characters")
    return value


def word_param(request: web.Request, name: str) -> str | None:
    """An id-like query parameter (letters, digits and ``_.:+@ -``)."""
    value = text_param(request, name)
    if value is not None and not _WORD.match(value):
        raise ApiError(422, f"{name} has characters an id cannot have")
    return value
