"""The review queue and the dashboard counters (staff only)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from adapters.web.api.common import (
    PRINCIPAL,
    READ_MODEL,
    choice_param,
    int_param,
    json_response,
    only_params,
)

STATUSES = ("open", "dismissed", "retried")


async def list_review(request: web.Request) -> web.Response:
    """``GET /api/review``: items newest first, optionally by status."""
    only_params(request, ("status", "limit", "cursor"))
    page = await request.app[READ_MODEL].review(
        status=choice_param(request, "status", STATUSES),
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=request.query.get("cursor"),
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def dismiss(request: web.Request) -> web.Response:
    """``POST /api/review/{id}/dismiss``: close an open item without acting on it."""
    only_params(request, ())
    item = await request.app[READ_MODEL].dismiss(
        request.match_info["id"], by=request[PRINCIPAL].agent, at=datetime.now(UTC)
    )
    return json_response(item)


async def counters(request: web.Request) -> web.Response:
    """``GET /api/counters``: the numbers at the top of the dashboard."""
    only_params(request, ())
    return json_response(await request.app[READ_MODEL].counters())
