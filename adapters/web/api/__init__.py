"""The read API under ``/api``: JSON reads, agent actions, live events, OpenAPI.

:func:`setup_api` registers every route with the roles allowed to call it, the guard
middleware (bearer tokens, JSON errors) and the objects the handlers share.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from aiohttp import web

from adapters.auth.session import session_auth
from adapters.auth.tokens import ANYONE, STAFF, Role
from adapters.engine.review_retry import ReviewRetrier
from adapters.web.api import (
    actions,
    catalog,
    conversations,
    devices,
    openapi,
    overview,
    review,
    stream,
)
from adapters.web.api.common import (
    READ_MODEL,
    STREAM_OPTIONS,
    TOKENS,
    Handler,
    StreamOptions,
    allow,
    api_guard,
)
from adapters.web.keys import DEPS
from core.agent_actions import AgentActionKind


@dataclass(frozen=True, slots=True)
class Route:
    """One API route and the roles that may call it."""

    method: str
    path: str
    handler: Handler
    roles: Collection[Role]


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/conversations", conversations.list_conversations, ANYONE),
    Route("GET", "/api/triage", conversations.list_triage, ANYONE),
    Route("GET", "/api/conversations/{id}", conversations.get_conversation, ANYONE),
    Route("GET", "/api/conversations/{id}/messages", conversations.list_messages, ANYONE),
    Route("GET", "/api/conversations/{id}/timeline", conversations.timeline, ANYONE),
    Route(
        "POST",
        "/api/conversations/{id}/take-over",
        actions.action(AgentActionKind.TAKE_OVER),
        STAFF,
    ),
    Route(
        "POST", "/api/conversations/{id}/release", actions.action(AgentActionKind.RELEASE), STAFF
    ),
    Route(
        "POST", "/api/conversations/{id}/resolve", actions.action(AgentActionKind.RESOLVE), STAFF
    ),
    Route("POST", "/api/conversations/{id}/reply", actions.action(AgentActionKind.REPLY), STAFF),
    Route("GET", "/api/review", review.list_review, STAFF),
    Route("POST", "/api/review/{id}/dismiss", review.dismiss, STAFF),
    Route("POST", "/api/review/{id}/retry", review.retry, STAFF),
    Route("GET", "/api/counters", review.counters, STAFF),
    Route("GET", "/api/dealers", catalog.list_dealers, ANYONE),
    Route("GET", "/api/catalog", catalog.get_catalog, ANYONE),
    Route("GET", "/api/orders", catalog.list_orders, ANYONE),
    Route("GET", "/api/carts", catalog.list_carts, ANYONE),
    Route("GET", "/api/overview", overview.get_overview, STAFF),
    Route("GET", "/api/stream", stream.stream, ANYONE),
    Route("GET", "/api/devices", devices.list_devices, STAFF),
    Route("POST", "/api/devices", devices.register_device, STAFF),
    Route("DELETE", "/api/devices/{token}", devices.remove_device, STAFF),
    Route("GET", "/api/openapi.json", openapi.openapi, ANYONE),
)


def setup_api(app: web.Application) -> None:
    """Add the ``/api`` routes, their guard and shared objects to ``app`` (before it starts)."""
    deps = app[DEPS]
    app[TOKENS] = deps.tokens
    app[READ_MODEL] = deps.read_model
    app[STREAM_OPTIONS] = StreamOptions()
    app[review.RETRIER] = ReviewRetrier(deps.store, deps.reprocessors)
    app.middlewares.append(session_auth)  # a session cookie stands in for the bearer token
    app.middlewares.append(api_guard)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, allow(route.roles, route.handler))
