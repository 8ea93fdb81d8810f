"""Component schemas of the OpenAPI document: the JSON shapes the read API answers."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
STAGE: Json = {
    "type": "string",
    "enum": ["pending", "awaiting_confirmation", "checkout", "open", "resolved", "opted_out"],
}


def ref(name: str) -> Json:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


_STR = {"type": "string"}
_STR_N = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_INT = {"type": "integer"}


def _page(item: str) -> Json:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": ref(item)}, "next_cursor": _STR_N},
    }


SCHEMAS: Json = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {"error": _STR, "status": _INT, "hint": _STR},
    },
    "Conversation": {
        "type": "object",
        "properties": {
            "id": _STR,
            "phone": _STR_N,
            "conversation_type": {"enum": ["customer", "dealer"]},
            "context": {"type": ["object", "null"]},
            "message_count": _INT,
            "last_message_at": _TIME,
            "stage": STAGE,
            "assignee": _STR_N,
            "unread_count": _INT,
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "ConversationPage": _page("Conversation"),
    "Message": {
        "type": "object",
        "properties": {
            "id": _STR,
            "conversation_id": _STR,
            "phone": _STR_N,
            "direction": {"enum": ["inbound", "outbound"]},
            "content": _STR_N,
            "type": _STR_N,
            "status": _STR_N,
            "meta_message_id": _STR_N,
            "meta_response": {"type": ["object", "null"]},
            "created_at": _TIME,
            "updated_at": _TIME,
        },
    },
    "MessagePage": _page("Message"),
    "TimelineEvent": {
        "type": "object",
        "properties": {
            "position": _INT,
            "version": _INT,
            "type": _STR,
            "schema_version": _INT,
            "recorded_at": _TIME,
            "data": {"type": "object"},
            "metadata": {"type": "object"},
        },
    },
    "Timeline": {
        "type": "object",
        "properties": {
            "conversation_id": _STR,
            "stream": _STR,
            "events": {"type": "array", "items": ref("TimelineEvent")},
            "next_after": {"type": ["integer", "null"]},
        },
    },
    "ActionResult": {
        "type": "object",
        "properties": {
            "conversation_id": _STR,
            "stage": STAGE,
            "assignee": _STR_N,
            "outbound_id": _STR,
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"type": _STR, "position": _INT, "version": _INT},
                },
            },
        },
    },
    "ReplyBody": {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4096}},
    },
    "ReviewItem": {
        "type": "object",
        "properties": {
            "id": _STR,
            "kind": {
                "enum": [
                    "parked",
                    "assistant_failed",
                    "outbound_failed",
                    "escalated",
                    "operator_alert",
                ]
            },
            "conversation_id": _STR_N,
            "stream": _STR,
            "position": _INT,
            "summary": _STR_N,
            "status": {"enum": ["open", "dismissed", "retried"]},
            "created_at": _TIME,
            "updated_at": _TIME,
            "dismissed_by": _STR_N,
            "dismissed_at": _TIME,
        },
    },
    "ReviewPage": _page("ReviewItem"),
    "ReviewRetry": {
        "type": "object",
        "properties": {
            "item": ref("ReviewItem"),
            "retry": {
                "type": "object",
                "properties": {
                    "succeeded": {"type": "boolean"},
                    "error": _STR_N,
                    "outbound_id": _STR_N,
                    "original_outbound_id": _STR_N,
                    "events": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"type": _STR, "position": _INT, "version": _INT},
                        },
                    },
                },
            },
        },
    },
    "Dealer": {
        "type": "object",
        "properties": {"id": _STR, "name": _STR, "category": _STR, "phone": _STR},
    },
    "DealerList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": ref("Dealer")}},
    },
    "Product": {
        "type": "object",
        "properties": {
            "id": _STR,
            "dealer_id": _STR,
            "name": _STR,
            "description": _STR,
            "price": {"type": "string", "description": "decimal, EUR"},
            "stock": _INT,
            "in_stock": {"type": "boolean"},
            "tags": {"type": "array", "items": _STR},
            "retailer_id": _STR,
        },
    },
    "ProductList": {
        "type": "object",
        "properties": {"items": {"type": "array", "items": ref("Product")}},
    },
    "OrderPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object"}},
            "next_cursor": _STR_N,
        },
    },
    "Counters": {
        "type": "object",
        "properties": {
            "open_conversations": _INT,
            "pending_orders": {"type": ["integer", "null"]},
            "failed_sends": _INT,
            "review_queue": _INT,
            "assistant_latency_p50_ms": {"type": ["number", "null"]},
        },
    },
}


_DEVICE_KIND: Json = {"type": "string", "enum": ["rider", "support", "customer"]}
_PLATFORM: Json = {"type": ["string", "null"], "enum": ["android", "ios", "web", None]}
SCHEMAS.update(
    {
        "DeviceBody": {
            "type": "object",
            "required": ["owner_kind", "owner_id", "token"],
            "additionalProperties": False,
            "properties": {
                "owner_kind": _DEVICE_KIND,
                "owner_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 128,
                    "pattern": "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f]"
                    "[^\\u0000-\\u001f\\u007f]*$",
                    "description": "a rider's or customer's phone (a valid number), or a"
                    " support agent's name",
                },
                "token": {"type": "string", "pattern": "^[A-Za-z0-9_:.\\-]{1,4096}$"},
                "platform": _PLATFORM,
            },
        },
        "Device": {
            "type": "object",
            "required": ["device", "owner_kind", "owner_id", "created_at"],
            "properties": {
                "device": {"type": "string", "description": "the token's fingerprint"},
                "owner_kind": _DEVICE_KIND,
                "owner_id": _STR,
                "platform": _PLATFORM,
                "created_at": _TIME,
            },
        },
        "DeviceList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("Device")}},
        },
        "DeviceRemoved": {
            "type": "object",
            "required": ["removed"],
            "properties": {"removed": {"type": "string", "description": "the fingerprint"}},
        },
    }
)
