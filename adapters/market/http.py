"""The Dloop market API adapter: ``POST {MARKET_API_URL}/orders`` with an idempotency key.

The relay id is the ``Idempotency-Key``, so a retry after a timeout cannot create a second
order. Errors: connection failures, timeouts, 429 and 5xx are
:class:`~core.ports.TransientError` (the order is parked and retried); other 4xx are
:class:`~core.ports.PermanentError`; a 2xx without an ``id`` is permanent too.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from core.delivery import market_delivery_json
from core.market import MarketOrderRequest
from core.ports import PermanentError, TransientError
from events.codec import encode_payload


class HttpMarketOrders:
    """:class:`core.ports.MarketOrders` over HTTP."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, *, timeout: float = 10.0
    ) -> None:
        self.session = session
        self.url = base_url.rstrip("/") + "/orders"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def create(self, order: MarketOrderRequest) -> str:
        """Post the order; return the market's order id."""
        headers = {"Idempotency-Key": order.relay_id}
        try:
            async with self.session.post(
                self.url, json=body_of(order), headers=headers, timeout=self.timeout
            ) as resp:
                payload = await _json(resp)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientError(f"market API unreachable: {type(exc).__name__}: {exc}") from exc
        if status == 429 or status >= 500:
            raise TransientError(f"market API answered {status}")
        if status >= 400:
            raise PermanentError(f"market API refused the order ({status}): {payload}")
        order_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(order_id, str | int) or not str(order_id):
            raise PermanentError(f"market API answered {status} without an order id")
        return str(order_id)


def body_of(order: MarketOrderRequest) -> dict[str, Any]:
    """The JSON the market API receives (money as decimal strings; delivery when known)."""
    body: dict[str, Any] = {
        "external_id": order.relay_id,
        "customer_phone": order.customer,
        "dealer_id": order.dealer_id,
        "currency": order.currency,
        "total": str(order.total),
        "lines": [encode_payload(line) for line in order.lines],
    }
    if order.delivery is not None:
        body["delivery"] = market_delivery_json(order.delivery)
    return body


async def _json(resp: aiohttp.ClientResponse) -> Any:
    try:
        return await resp.json(content_type=None)
    except (TimeoutError, ValueError, aiohttp.ContentTypeError):
        return None
