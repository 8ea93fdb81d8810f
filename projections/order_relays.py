"""``whatsapp_order_relays``: one row per dealer share of a customer's cart.

The original Supabase columns (id, conversation_id, phone, order_data, products,
total_price, status ``pending|confirmed|created|failed``, market_order_id, dealer_id,
created_at, updated_at) plus the fine ``stage`` and the short ``order_number``. The stage
follows the core's own ``evolve_relay``, so the table agrees with the state machine.

A relay is a cart until the customer confirms it: ``confirmed_at`` is set from then on,
so orders (relays from confirmation on) and carts are told apart by one column, whatever
happened later. ``stage_changed_at`` says since when a relay waits in its stage,
``dealer_silent_at`` when it was escalated because the dealer did not answer. The
customer's person id goes in ``person_id``; the runner writes the phone and profile name
beside it (``adapters/readmodel/who.py``).

The delivery address stays in the customer's stream (``checkout.completed``, sealed with
their key, ADR 0010): this projection keeps it in ``order_deliveries``, one row per cart,
which the read API joins to the cart's relays by ``order_data.cart_id``. Erasure rebuilds
the table, after which the address reads ``[erased]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.order_relay import RelayStage, RelayState, evolve_relay, to_seed_status
from core.phones import is_person_id
from events.base import RecordedEvent, registered_events
from events.checkout import CheckoutCompleted
from events.codec import encode_payload
from events.delivery import DeliveryScheduled
from events.market import MarketOrderDeferred, OrderNumberAssigned
from events.orders import (
    MarketOrderCreated,
    OrderCancelled,
    OrderConfirmed,
    OrderDrafted,
    OrderEscalated,
    OrderFailed,
    OrderRejected,
)
from projections.base import Current, RowKey, Upsert
from projections.messages import conversation_id

TABLE = "whatsapp_order_relays"
DELIVERIES = "order_deliveries"

_MODULES = frozenset({"events.orders", "events.market", "events.delivery"})


def relay_key(relay_id: str) -> RowKey:
    """A relay row by its id."""
    return RowKey.of(TABLE, id=relay_id)


def delivery_key(cart_id: str) -> RowKey:
    """A cart's delivery row by the cart's id."""
    return RowKey.of(DELIVERIES, cart_id=cart_id)


class OrderRelaysProjection:
    """Builds ``whatsapp_order_relays`` from ``order-*`` streams."""

    name: str = "whatsapp_order_relays"
    tables: tuple[str, ...] = (TABLE, DELIVERIES)
    event_types = frozenset(
        t for t, cls in registered_events().items() if cls.__module__ in _MODULES
    ) | {CheckoutCompleted.TYPE}

    def needs(self, event: RecordedEvent) -> Sequence[RowKey]:
        """The relay's row for relay events; the cart's delivery row for a checkout."""
        if isinstance(event.payload, CheckoutCompleted):
            if not event.stream.startswith("conversation-"):
                return []
            return [delivery_key(event.payload.cart_id)]
        if not event.stream.startswith("order-") or event.stream == "order-numbers":
            return []
        relay_id = getattr(event.payload, "relay_id", None)
        if not isinstance(relay_id, str) or type(event.payload).__module__ not in _MODULES:
            return []
        return [relay_key(relay_id)]

    def project(self, event: RecordedEvent, current: Current) -> Sequence[Upsert]:
        """Upsert the relay's row with the event applied."""
        keys = self.needs(event)
        if not keys:
            return []
        key = keys[0]
        if isinstance(event.payload, CheckoutCompleted):
            return [_delivery(key, event.payload, event)]
        values = dict(current.get(key) or {})
        values.setdefault("id", dict(key.key)["id"])
        values.setdefault("created_at", event.recorded_at)
        values.setdefault("order_data", {})
        stage = RelayStage(values.get("stage") or RelayStage.DRAFT.value)
        state = evolve_relay(RelayState(relay_id=values["id"], stage=stage), event.payload)
        if values.get("stage") != state.stage.value or not values.get("stage_changed_at"):
            values["stage_changed_at"] = event.recorded_at
        values["stage"] = state.stage.value
        values["status"] = to_seed_status(state.stage)
        values["updated_at"] = event.recorded_at
        _apply(values, event.payload)
        return [Upsert(key, values)]


def _delivery(key: RowKey, p: CheckoutCompleted, event: RecordedEvent) -> Upsert:
    """The cart's delivery row: where the customer asked for it (the last checkout wins)."""
    return Upsert(
        key,
        {
            "cart_id": p.cart_id,
            "conversation_id": conversation_id(event.stream),
            "address": p.address,
            "completed_at": event.recorded_at,
        },
    )


def _apply(values: dict[str, Any], p: object) -> None:
    data = dict(values.get("order_data") or {})
    if isinstance(p, OrderDrafted):
        values["conversation_id"] = conversation_id(f"conversation-{p.customer_key}")
        if is_person_id(p.customer_key):
            values["person_id"] = p.customer_key
        else:  # a log written before pseudonyms names the number
            values["phone"] = p.customer_key
        values["dealer_id"] = p.dealer_id
        values["products"] = [encode_payload(line) for line in p.lines]
        values["total_price"] = p.total
        data.update(cart_id=p.cart_id, currency=p.currency, dealer_phone=p.dealer_phone)
    elif isinstance(p, OrderConfirmed):
        values["confirmed_at"] = p.confirmed_at
    elif isinstance(p, OrderEscalated) and p.reason == "dealer_silent":
        values["dealer_silent_at"] = p.escalated_at
    elif isinstance(p, MarketOrderCreated):
        values["market_order_id"] = p.market_order_id
    elif isinstance(p, OrderNumberAssigned):
        values["order_number"] = p.number
    elif isinstance(p, MarketOrderDeferred):
        data.update(market_attempts=p.attempt, market_error=p.error)
    elif isinstance(p, OrderRejected | OrderCancelled):
        data["reason"] = p.reason
    elif isinstance(p, DeliveryScheduled):
        data.update(
            delivery_when=p.when_text,
            payment=p.payment,
            delivery_fee=str(p.fee),
            total_with_delivery=str(p.total),
        )
    elif isinstance(p, OrderFailed):
        data["reason"] = f"{p.step}: {p.error}"
    values["order_data"] = data
