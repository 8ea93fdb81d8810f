"""The review queue and the dashboard counters (staff only)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from adapters.engine.review_retry import ReviewRetrier
from adapters.web.api.common import (
    PRINCIPAL,
    READ_MODEL,
    choice_param,
    int_param,
    json_response,
    only_params,
)
from events.base import Metadata

STATUSES = ("open", "dismissed", "retried")
RETRIER = web.AppKey("api_review_retrier", ReviewRetrier)


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


async def retry(request: web.Request) -> web.Response:
    """``POST /api/review/{id}/retry``: re-drive a parked event or re-queue a failed send.

    202 with the new send's id for a failed send; 200 with the re-drive's verdict for a
    parked event (``retry.succeeded`` false when it failed again: the item stays open).
    409 for an item not open or of a kind that cannot be retried.
    """
    only_params(request, ())
    item = await request.app[READ_MODEL].review_item(request.match_info["id"])
    principal = request[PRINCIPAL]
    meta = Metadata(
        source="api",
        correlation_id=request.headers.get("X-Request-Id"),
        extra={"token_id": principal.id},
    )
    outcome = await request.app[RETRIER].retry(item, principal.agent, meta)
    if outcome.succeeded:
        item = {**item, "status": "retried", "updated_at": datetime.now(UTC)}
    status = 202 if outcome.outbound_id is not None else 200
    return json_response({"item": item, "retry": outcome.to_json()}, status=status)


async def counters(request: web.Request) -> web.Response:
    """``GET /api/counters``: the numbers at the top of the dashboard."""
    only_params(request, ())
    return json_response(await request.app[READ_MODEL].counters())
