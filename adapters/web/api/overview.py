"""``GET /api/overview``: the series the dashboard's overview charts draw (staff only)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from adapters.readmodel.stats import overview
from adapters.web.api.common import int_param, json_response, only_params
from adapters.web.keys import DEPS

MAX_HOURS, MAX_DAYS = 168, 90


async def get_overview(request: web.Request) -> web.Response:
    """Orders by stage per hour and day, turns, latency, failures, agent response times."""
    only_params(request, ("hours", "days"))
    hours = int_param(request, "hours", 48, 1, MAX_HOURS)
    days = int_param(request, "days", 14, 1, MAX_DAYS)
    async with request.app[DEPS].engines.reader.connect() as conn:
        body = await overview(conn, datetime.now(UTC), hours, days)
    return json_response(body)
