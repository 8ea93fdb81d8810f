"""The OpenAPI 3.1 document of ``/api`` (served at ``/api/openapi.json``).

Written by hand from small builders, so it says what clients need (roles, errors, the
cursor contract); ``tests/api/test_openapi.py`` checks that its paths and methods are
exactly the registered routes.
"""

from __future__ import annotations

from aiohttp import web

from adapters.web.api.common import json_response, only_params
from adapters.web.api.openapi_builders import (
    ALL,
    CURSOR,
    LIMIT,
    STAFF,
    TEXT,
    WORD,
    ok_answer,
    operation,
    path_id,
    query_param,
    with_created,
)
from adapters.web.api.openapi_readside import READSIDE_PATHS
from adapters.web.api.openapi_schemas import SCHEMAS, STAGE, Json, ref
from adapters.web.api.openapi_simulate import SIMULATE_PATHS, SIMULATE_SCHEMAS


def _action(summary: str) -> Json:
    return {
        "post": operation(
            summary,
            STAFF,
            ok_answer("ActionResult"),
            params=[path_id("conversation id")],
            errors=(403, 404, 409, 422),
        )
    }


def _retry_op() -> Json:
    op = operation(
        "Retry an open review item: re-drive a parked event or re-queue a failed send",
        STAFF + " A failed or unknown-outcome send is queued again as a new message (202),"
        " within the 24-hour window and unless the customer opted out; a parked event is"
        " re-driven by its reactor (200; retry.succeeded is false when it failed again and"
        " the item stays open). Assistant failures, escalations and items not open: 409.",
        ok_answer("ReviewRetry", "the parked event was re-driven"),
        params=[path_id("review item id")],
        errors=(403, 404, 409, 422),
    )
    op["responses"]["202"] = ok_answer("ReviewRetry", "the failed send was queued again")
    return op


PATHS: Json = {
    "/api/conversations": {
        "get": operation(
            "List conversations, newest message first",
            ALL,
            ok_answer("ConversationPage"),
            params=[
                query_param("stage", "conversation stage", STAGE),
                query_param(
                    "type", "customer or dealer", {"type": "string", "enum": ["customer", "dealer"]}
                ),
                query_param("assignee", "agent owning the conversation", TEXT),
                query_param(
                    "q",
                    "text search over phone, profile name and recent messages",
                    {**TEXT, "maxLength": 200},
                ),
                query_param(
                    "attention",
                    "needed: only conversations that need a person; none: only the others",
                    {"type": "string", "enum": ["needed", "none"]},
                ),
                LIMIT,
                CURSOR,
            ],
            errors=(403, 422),
        )
    },
    "/api/conversations/{id}": {
        "get": operation(
            "One conversation",
            ALL,
            ok_answer("Conversation"),
            params=[path_id("conversation id")],
            errors=(403, 404, 422),
        )
    },
    "/api/conversations/{id}/messages": {
        "get": operation(
            "Messages of a conversation, oldest first",
            ALL,
            ok_answer("MessagePage"),
            params=[path_id("conversation id"), LIMIT, CURSOR],
            errors=(403, 404, 422),
        )
    },
    "/api/conversations/{id}/timeline": {
        "get": operation(
            "Every event of the conversation stream (audit view)",
            ALL,
            ok_answer("Timeline"),
            params=[
                path_id("conversation id"),
                query_param(
                    "after",
                    "only events after this stream version",
                    {"type": "integer", "minimum": 0, "maximum": 2**31},
                ),
                query_param(
                    "limit", "events per page", {"type": "integer", "minimum": 1, "maximum": 1000}
                ),
            ],
            errors=(403, 404, 422),
        )
    },
    "/api/conversations/{id}/take-over": _action("Take the conversation from the bot"),
    "/api/conversations/{id}/release": _action("Hand the conversation back to the bot"),
    "/api/conversations/{id}/resolve": _action("Close the conversation"),
    "/api/conversations/{id}/reply": {
        "post": operation(
            "Reply as the agent, through the outbox"
            " (409 with a template hint outside the 24-hour window)",
            STAFF,
            ok_answer("ActionResult", "queued"),
            params=[path_id("conversation id")],
            errors=(403, 404, 409, 422),
            body={"required": True, "content": {"application/json": {"schema": ref("ReplyBody")}}},
            ok_status="202",
        )
    },
    "/api/review": {
        "get": operation(
            "The review queue, newest first",
            STAFF,
            ok_answer("ReviewPage"),
            params=[
                query_param(
                    "status",
                    "item status",
                    {"type": "string", "enum": ["open", "dismissed", "retried"]},
                ),
                LIMIT,
                CURSOR,
            ],
            errors=(403, 422),
        )
    },
    "/api/review/{id}/dismiss": {
        "post": operation(
            "Dismiss an open review item",
            STAFF,
            ok_answer("ReviewItem"),
            params=[path_id("review item id")],
            errors=(403, 404, 409, 422),
        )
    },
    "/api/review/{id}/retry": {"post": _retry_op()},
    "/api/dealers": {"get": operation("Dealers", ALL, ok_answer("DealerList"), errors=(422,))},
    "/api/catalog": {
        "get": operation(
            "Products with price and stock",
            ALL,
            ok_answer("ProductList"),
            params=[query_param("dealer", "only this dealer's products (staff)", WORD)],
            errors=(422,),
        )
    },
    "/api/counters": {
        "get": operation("Dashboard counters", STAFF, ok_answer("Counters"), errors=(403, 422))
    },
    "/api/stream": {
        "get": operation(
            "Server-Sent Events of new events; id is the global position;"
            " resumable with Last-Event-ID",
            ALL,
            {
                "description": "an endless text/event-stream",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            params=[
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "description": "resume after this global position",
                    "schema": {"type": "integer", "minimum": 0},
                },
                query_param(
                    "after",
                    "same as Last-Event-ID, for clients that cannot set headers",
                    {"type": "integer", "minimum": 0},
                ),
            ],
            errors=(422,),
        )
    },
    "/api/openapi.json": {
        "get": operation(
            "This document",
            ALL,
            {
                "description": "the OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        )
    },
}

PATHS.update(READSIDE_PATHS)
PATHS.update(
    {
        "/api/devices": {
            "get": operation(
                "Registered push devices, oldest first (fingerprints, never tokens)",
                STAFF,
                ok_answer("DeviceList"),
                params=[
                    query_param(
                        "owner_kind",
                        "rider, support or customer",
                        {"type": "string", "enum": ["rider", "support", "customer"]},
                    ),
                    query_param("owner_id", "the owner's phone or agent name", TEXT),
                ],
                errors=(403, 422),
            ),
            "post": with_created(
                operation(
                    "Register a push device token (201), or move an existing one (200);"
                    " recorded as notify.device_registered",
                    STAFF,
                    ok_answer("Device", "moved to the new owner"),
                    errors=(403, 422),
                    body={
                        "required": True,
                        "content": {"application/json": {"schema": ref("DeviceBody")}},
                    },
                )
            ),
        },
        "/api/devices/{token}": {
            "delete": operation(
                "Forget a push device by its token or its fingerprint;"
                " recorded as notify.device_removed",
                STAFF,
                ok_answer("DeviceRemoved"),
                params=[
                    {
                        "name": "token",
                        "in": "path",
                        "required": True,
                        "description": "the FCM token, or the 12-hex-digit fingerprint",
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_:.\\-]{1,4096}$"},
                    }
                ],
                errors=(403, 404, 422),
            )
        },
    }
)

DOCUMENT: Json = {
    "openapi": "3.1.0",
    "info": {
        "title": "Dloop WhatsApp relay: read API",
        "version": "1",
        "description": "Every route needs `Authorization: Bearer <token>`"
        " (dloop-bot token create). "
        "Errors share the Error shape. Lists are paginated by an opaque next_cursor.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {**PATHS, **SIMULATE_PATHS},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {**SCHEMAS, **SIMULATE_SCHEMAS},
    },
}


async def openapi(request: web.Request) -> web.Response:
    """``GET /api/openapi.json``: the document above."""
    only_params(request, ())
    return json_response(DOCUMENT)
