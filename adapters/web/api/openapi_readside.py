"""OpenAPI paths and schemas of the read side's triage, orders, carts and overview."""

from __future__ import annotations

from adapters.web.api.openapi_builders import (
    ALL,
    CURSOR,
    LIMIT,
    STAFF,
    WORD,
    ok_answer,
    operation,
    query_param,
)
from adapters.web.api.openapi_schemas import SCHEMAS, Json, ref
from core.order_relay import RelayStage

RELAY_STAGES = [s.value for s in RelayStage]
_ORDER_STAGES = [s for s in RELAY_STAGES if s not in ("draft", "awaiting_confirmation")]
_CART_STAGES = ["draft", "awaiting_confirmation", "cancelled", "expired"]
_N = {"type": ["number", "null"]}
_SERIES = {"type": "array", "items": {"type": "integer"}}
_SPREAD = {
    "type": "object",
    "properties": {"p50": {"type": "array", "items": _N}, "p95": {"type": "array", "items": _N}},
}


def _relay_list(summary: str, schema: str, stages: list[str]) -> Json:
    return {
        "get": operation(
            summary,
            ALL,
            ok_answer(schema),
            params=[
                query_param("stage", "the relay's stage", {"type": "string", "enum": stages}),
                query_param("status", "seed status: pending, confirmed, created, failed", WORD),
                query_param("dealer", "dealer id (staff)", WORD),
                query_param("conversation", "the customer's conversation id", WORD),
                LIMIT,
                CURSOR,
            ],
            errors=(422,),
        )
    }


READSIDE_PATHS: Json = {
    "/api/triage": {
        "get": operation(
            "Conversations that need a person (escalated, taken over, a failed send, a"
            " silent dealer), longest waiting first, at most 200",
            ALL,
            ok_answer("TriageList"),
            errors=(422,),
        )
    },
    "/api/orders": _relay_list(
        "Orders: relays from the customer's confirmation on, newest first",
        "OrderPage",
        _ORDER_STAGES,
    ),
    "/api/carts": _relay_list(
        "Carts: relays the customer has not confirmed (being built, replaced, expired)",
        "OrderPage",
        _CART_STAGES,
    ),
    "/api/overview": {
        "get": operation(
            "The overview charts' series: orders by stage per hour and day, turns per hour,"
            " assistant latency, failed sends, review items, agent response times",
            STAFF,
            ok_answer("Overview"),
            params=[
                query_param(
                    "hours", "hourly window", {"type": "integer", "minimum": 1, "maximum": 168}
                ),
                query_param(
                    "days", "daily window", {"type": "integer", "minimum": 1, "maximum": 90}
                ),
            ],
            errors=(403, 422),
        )
    },
}

_STR_N = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_PERSON = {
    "person_id": {**_STR_N, "description": "pseudonymous person id (prs_...)"},
    "phone": {**_STR_N, "description": "E.164 (a BSUID if no number), [erased] once erased"},
    "profile_name": {**_STR_N, "description": "WhatsApp profile name, when WhatsApp gave one"},
}

SCHEMAS.update(
    {
        "Order": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "conversation_id": _STR_N,
                **_PERSON,
                "stage": {"type": "string", "enum": RELAY_STAGES},
                "status": {"enum": ["pending", "confirmed", "created", "failed"]},
                "order_number": {"type": ["integer", "null"]},
                "dealer_id": _STR_N,
                "products": {"type": ["array", "null"]},
                "total_price": {"type": ["string", "null"], "description": "decimal, EUR"},
                "order_data": {
                    "type": ["object", "null"],
                    "description": "cart_id; after checkout delivery_when, payment,"
                    " delivery_fee and total_with_delivery (decimal strings)",
                },
                "delivery_address": {
                    **_STR_N,
                    "description": "the checkout's address ([erased] once the customer is"
                    " erased; null before checkout)",
                },
                "confirmed_at": {**_TIME, "description": "set: an order; null: a cart"},
                "stage_changed_at": {**_TIME, "description": "since when it waits in its stage"},
                "dealer_silent_at": _TIME,
                "created_at": _TIME,
                "updated_at": _TIME,
            },
        },
        "OrderPage": {
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": ref("Order")},
                "next_cursor": _STR_N,
            },
        },
        "TriageList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("Conversation")}},
        },
        "Counters": {
            "type": "object",
            "properties": {
                name: {"type": "integer", "description": text}
                for name, text in (
                    ("open_conversations", "conversations in stage open (people own them)"),
                    ("needs_person", "conversations on the triage list"),
                    ("unread_messages", "messages no agent has seen since the last agent action"),
                    ("pending_orders", "orders waiting on the market or the dealer"),
                    ("open_carts", "carts waiting for the customer's confirmation"),
                    ("silent_dealers", "orders escalated because the dealer did not answer"),
                    ("failed_sends", "outbound messages that failed"),
                    ("review_queue", "open review items"),
                )
            }
            | {"assistant_latency_p50_ms": _N, "assistant_latency_p95_ms": _N},
        },
        "Overview": {
            "type": "object",
            "properties": {
                "now": {"type": "string", "format": "date-time"},
                "hours": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                "days": {"type": "array", "items": {"type": "string", "format": "date-time"}},
                "orders_per_hour": {"type": "object", "additionalProperties": _SERIES},
                "orders_per_day": {"type": "object", "additionalProperties": _SERIES},
                "turns_per_hour": _SERIES,
                "assistant_latency_ms": _SPREAD,
                "failed_sends_per_day": _SERIES,
                "review_items_per_day": _SERIES,
                "agent_response_minutes": _SPREAD,
            },
        },
    }
)
