"""A fake Dloop market API on 127.0.0.1: ``POST /orders`` with an ``Idempotency-Key``.

It stores orders by key (a repeat returns the first order, as a real idempotent API
does), records every request, and can be switched ``down`` (HTTP 503) to test parking
and retries. :meth:`FakeMarketApi.report` plays the market's side of an order's life:
it changes an order's status and posts the signed callback to our ``/market/webhook``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from adapters.fakes.base import LocalServer
from adapters.meta.signature import sign

SIGNATURE_HEADER = "X-Dloop-Signature-256"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketRequest:
    """One call the fake received."""

    idempotency_key: str | None
    body: Any
    status: int


class FakeMarketApi(LocalServer):
    """The fake market server; ``down = True`` answers 503 to every order."""

    def __init__(self) -> None:
        self.down = False
        self.orders: dict[str, dict[str, Any]] = {}
        self.requests: list[MarketRequest] = []
        self.callbacks: list[tuple[dict[str, Any], int]] = []  # (body, our answer's status)
        self._ids = itertools.count(1001)

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/orders", self._create)
        return app

    async def _create(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        try:
            body = await request.json()
        except ValueError:
            body = None
        status, answer = self._answer(key, body)
        self.requests.append(MarketRequest(idempotency_key=key, body=body, status=status))
        return web.json_response(answer, status=status)

    async def report(
        self, order_id: str, status: str, webhook_url: str, secret: str | None
    ) -> tuple[int, Any]:
        """Set ``order_id``'s status and post the signed callback; our answer's status and JSON.

        ``secret`` None sends no signature header (to test the refusal).
        """
        order = next(o for o in self.orders.values() if o["id"] == order_id)
        order["status"] = status
        body = {
            "external_id": order["external_id"],
            "order_id": order_id,
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(raw, secret)
        async with (
            aiohttp.ClientSession() as session,
            session.post(webhook_url, data=raw, headers=headers) as resp,
        ):
            answer = await resp.json(content_type=None)
            self.callbacks.append((body, resp.status))
            return resp.status, answer

    def _answer(self, key: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        if self.down:
            return 503, {"error": "market temporarily unavailable"}
        if not key:
            return 400, {"error": "Idempotency-Key header is required"}
        if not isinstance(body, dict) or not body.get("lines"):
            return 422, {"error": "an order needs lines"}
        if key in self.orders:
            return 200, self.orders[key]
        order = {"id": f"DL-{next(self._ids)}", "status": "created", **body}
        self.orders[key] = order
        return 201, order
