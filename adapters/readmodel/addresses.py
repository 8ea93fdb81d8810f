"""The delivery address beside each order relay, written with the relay rows.

The address a customer gives at checkout is personal: it stays sealed in their stream
(``checkout.completed``, ADR 0010), and the relay streams never repeat it. The order
relays projection keeps it per cart in ``order_deliveries``; before relay rows are
written, :func:`with_addresses` copies their cart's address into ``delivery_address``
(this write's delivery rows first, then the table), so the seed table, the API, the
board and Supabase-style readers see it on the order itself. Erasure rebuilds both
tables, after which the address reads ``[erased]``. Live rows, a rebuild and the audit's
fresh fold all pass through this step (via :func:`adapters.readmodel.who.identify`), so
they agree (docs/adr/0027-order-delivery-address-on-the-read-side.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.tables import order_deliveries
from projections.base import Row, RowKey
from projections.order_relays import DELIVERIES, TABLE

_IN_LIMIT = 500


def cart_of(row: Row) -> str | None:
    """The cart id a relay row was drafted from (None for a row without one)."""
    cart = (row.get("order_data") or {}).get("cart_id")
    return str(cart) if cart else None


async def with_addresses(conn: AsyncConnection, dirty: Mapping[RowKey, Row]) -> dict[RowKey, Row]:
    """``dirty`` with each relay row's ``delivery_address`` set from its cart's checkout."""
    carts = {c for key, row in dirty.items() if key.table == TABLE and (c := cart_of(row))}
    if not carts:
        return dict(dirty)
    found = {
        str(row["cart_id"]): row.get("address")
        for key, row in dirty.items()
        if key.table == DELIVERIES and str(row["cart_id"]) in carts
    }
    wanted = sorted(carts - set(found))
    d = order_deliveries.c
    for start in range(0, len(wanted), _IN_LIMIT):
        stmt = select(d.cart_id, d.address).where(d.cart_id.in_(wanted[start : start + _IN_LIMIT]))
        found.update({str(cart): address for cart, address in await conn.execute(stmt)})
    out: dict[RowKey, Row] = {}
    for key, row in dirty.items():
        cart = cart_of(row) if key.table == TABLE else None
        if cart is not None and cart in found and row.get("delivery_address") != found[cart]:
            out[key] = {**row, "delivery_address": found[cart]}
        else:
            out[key] = row
    return out
