"""Orders and carts, the triage list and the counters: read queries over the seed tables.

A relay is a **cart** while the customer has not confirmed it and an **order** from
confirmation on (``confirmed_at`` set by ``order.confirmed``), whatever happens later: a
cart replaced or left to expire never becomes an order, an order the dealer rejects
stays an order (stage ``rejected``). Stages are the relay's own (``core.order_relay``).

The triage list ("needs a person") holds conversations escalated to support, taken over
by an agent, with a failed send no agent has looked at yet, and customers whose order
waits on a silent dealer (``order.escalated``, reason ``dealer_silent``, while the relay
is still waiting for the dealer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.readmodel.search import shown_columns
from adapters.readmodel.tables import whatsapp_conversations as conversations
from adapters.readmodel.tables import whatsapp_order_relays as relays
from core.order_relay import RelayStage

CART_STAGES = (RelayStage.DRAFT.value, RelayStage.AWAITING_CONFIRMATION.value)
WAITING_STAGES = (
    RelayStage.CONFIRMED.value,
    RelayStage.MARKET_ORDER_CREATED.value,
    RelayStage.RELAYED_TO_DEALER.value,
)
ORDER_STAGES = tuple(s.value for s in RelayStage if s.value not in CART_STAGES)
TRIAGE_LIMIT = 200


def is_order(orders: bool) -> ColumnElement[bool]:
    """Orders (confirmed at some point) or carts (never confirmed)."""
    c = relays.c.confirmed_at
    return c.is_not(None) if orders else c.is_(None)


def silent_dealer_conversations() -> Select[Any]:
    """Conversation ids of customers whose order waits on a dealer who did not answer."""
    r = relays.c
    return select(r.conversation_id).where(
        r.dealer_silent_at.is_not(None), r.stage == RelayStage.RELAYED_TO_DEALER.value
    )


def needs_person() -> ColumnElement[bool]:
    """The row filter of the triage list."""
    c = conversations.c
    return or_(c.attention.is_not(None), c.id.in_(silent_dealer_conversations()))


async def triage(conn: AsyncConnection, scope_filter: ColumnElement[bool]) -> list[dict[str, Any]]:
    """Conversations that need a person, longest waiting first, with why and since when."""
    stmt = select(*shown_columns()).where(scope_filter, needs_person()).limit(TRIAGE_LIMIT)
    found = [dict(r) for r in (await conn.execute(stmt)).mappings()]
    silent = {
        str(cid): at
        for cid, at in await conn.execute(
            select(relays.c.conversation_id, func.min(relays.c.dealer_silent_at))
            .where(relays.c.conversation_id.in_([r["id"] for r in found]))
            .where(relays.c.dealer_silent_at.is_not(None))
            .where(relays.c.stage == RelayStage.RELAYED_TO_DEALER.value)
            .group_by(relays.c.conversation_id)
        )
    }
    for row in found:
        if row["id"] in silent and row.get("attention") in (None, "send_failed"):
            row["attention"] = "dealer_silent"
            row["attention_since"] = silent[row["id"]]
    found.sort(key=lambda r: (r["attention_since"] is None, r["attention_since"] or 0, r["id"]))
    return found


async def count(conn: AsyncConnection, table: Any, where: ColumnElement[bool]) -> int:
    """Rows of ``table`` matching ``where``."""
    stmt = select(func.count()).select_from(table).where(where)
    return int((await conn.execute(stmt)).scalar() or 0)


async def conversation_counters(conn: AsyncConnection) -> dict[str, int]:
    """Conversations owned by people, needing a person, and messages no agent has seen."""
    c = conversations.c
    unread = select(func.coalesce(func.sum(c.unread_count), 0))
    return {
        "open_conversations": await count(conn, conversations, c.stage == "open"),
        "needs_person": await count(conn, conversations, needs_person()),
        "unread_messages": int((await conn.execute(unread)).scalar() or 0),
    }


async def order_counters(conn: AsyncConnection) -> dict[str, int]:
    """Orders waiting on the market or the dealer, open carts, orders with a silent dealer."""
    r = relays.c
    return {
        "pending_orders": await count(
            conn, relays, and_(is_order(True), r.stage.in_(WAITING_STAGES))
        ),
        "open_carts": await count(conn, relays, and_(is_order(False), r.stage.in_(CART_STAGES))),
        "silent_dealers": await count(
            conn,
            relays,
            and_(r.dealer_silent_at.is_not(None), r.stage == RelayStage.RELAYED_TO_DEALER.value),
        ),
    }
