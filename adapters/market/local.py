"""The default market-orders adapter: orders are written to the local ``market_orders`` table.

Idempotent by ``relay_id`` (a unique column): creating the same relay's order twice
returns the first id. Errors as the HTTP adapter's: a database failure is a
:class:`~core.ports.TransientError`, an order without lines a
:class:`~core.ports.PermanentError`. Ids are ``MO-`` plus a random hex suffix (the
shell's randomness).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from adapters.market.tables import market_orders
from adapters.store.engine import Engines
from core.delivery import market_delivery_json
from core.market import MarketOrderRequest
from core.ports import PermanentError, TransientError
from events.codec import encode_payload


class LocalMarketOrders:
    """:class:`core.ports.MarketOrders` on the service's own database."""

    def __init__(
        self, engines: Engines, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.engines = engines
        self._clock = clock

    async def create(self, order: MarketOrderRequest) -> str:
        """Insert the order once; return its id (the existing one on a repeat).

        An order without lines is refused for good, as the market API refuses it.
        """
        if not order.lines:
            raise PermanentError(f"an order needs lines (relay {order.relay_id})")
        try:
            existing = await self._find(order.relay_id)
            if existing is not None:
                return existing
            market_id = f"MO-{secrets.token_hex(5).upper()}"
            async with self.engines.writer.begin() as conn:
                await conn.execute(
                    market_orders.insert().values(**_row(market_id, order, self._clock()))
                )
            return market_id
        except IntegrityError:
            found = await self._find(order.relay_id)
            if found is None:
                raise
            return found
        except (OperationalError, DBAPIError, OSError) as exc:
            raise TransientError(f"market_orders write failed: {exc}") from exc

    async def _find(self, relay_id: str) -> str | None:
        async with self.engines.reader.connect() as conn:
            stmt = select(market_orders.c.id).where(market_orders.c.relay_id == relay_id)
            found = (await conn.execute(stmt)).scalar_one_or_none()
        return None if found is None else str(found)


def _row(market_id: str, order: MarketOrderRequest, now: datetime) -> dict[str, object]:
    return {
        "id": market_id,
        "relay_id": order.relay_id,
        "customer": order.customer,
        "dealer_id": order.dealer_id,
        "lines": [encode_payload(line) for line in order.lines],
        "total": order.total,
        "currency": order.currency,
        "status": "created",
        "created_at": now,
        "delivery": None if order.delivery is None else market_delivery_json(order.delivery),
    }
