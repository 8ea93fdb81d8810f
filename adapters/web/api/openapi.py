"""The OpenAPI 3.1 document of ``/api`` (served at ``/api/openapi.json``).

Written by hand from small builders, so it says what clients need (roles, errors, the
cursor contract); ``tests/api/test_openapi.py`` checks that its paths and methods are
exactly the registered routes.
"""

from __future__ import annotations

from aiohttp import web

from adapters.web.api.common import json_response, only_params
from adapters.web.api.openapi_schemas import SCHEMAS, STAGE, Json, ref
from adapters.web.api.openapi_simulate import SIMULATE_PATHS, SIMULATE_SCHEMAS

STAFF = "Roles: admin, support."
ALL = "Roles: admin, support, dealer (a dealer sees only its own rows)."


def _error(description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def _ok(schema: str, description: str = "OK") -> Json:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, description: str, schema: Json) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path_id(what: str) -> Json:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": what,
        "schema": {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f]+$"},
    }


def _op(
    summary: str,
    roles: str,
    ok: Json,
    *,
    params: list[Json] | None = None,
    errors: tuple[int, ...] = (),
    body: Json | None = None,
    ok_status: str = "200",
) -> Json:
    responses: Json = {ok_status: ok, "401": _error("missing, unknown, expired or revoked token")}
    texts = {
        403: "the token's role or dealer may not do this",
        404: "no such resource",
        409: "not allowed in the current state",
        422: "invalid parameter or body",
    }
    for code in errors:
        responses[str(code)] = _error(texts[code])
    op: Json = {
        "summary": summary,
        "description": roles,
        "parameters": params or [],
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = body
    return op


def _with_created(op: Json) -> Json:
    """``op`` also answering 201 for a new device, besides its 200."""
    return {**op, "responses": {"201": _ok("Device", "registered"), **op["responses"]}}


LIMIT = _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 200})
# Opaque (base64url); any other string is answered 422.
CURSOR = _query(
    "cursor",
    "the next_cursor of the previous page (opaque; anything else: 422)",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]+$", "maxLength": 512},
)
# What common.text_param and common.word_param accept, so generated clients agree.
TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$",
}
WORD = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.:+@-]([A-Za-z0-9_.:+@ -]{0,126}[A-Za-z0-9_.:+@-])?$",
}


def _action(summary: str) -> Json:
    return {
        "post": _op(
            summary,
            STAFF,
            _ok("ActionResult"),
            params=[_path_id("conversation id")],
            errors=(403, 404, 409, 422),
        )
    }


def _retry_op() -> Json:
    op = _op(
        "Retry an open review item: re-drive a parked event or re-queue a failed send",
        STAFF + " A failed or unknown-outcome send is queued again as a new message (202),"
        " within the 24-hour window and unless the customer opted out; a parked event is"
        " re-driven by its reactor (200; retry.succeeded is false when it failed again and"
        " the item stays open). Assistant failures, escalations and items not open: 409.",
        _ok("ReviewRetry", "the parked event was re-driven"),
        params=[_path_id("review item id")],
        errors=(403, 404, 409, 422),
    )
    op["responses"]["202"] = _ok("ReviewRetry", "the failed send was queued again")
    return op


PATHS: Json = {
    "/api/conversations": {
        "get": _op(
            "List conversations, newest message first",
            ALL,
            _ok("ConversationPage"),
            params=[
                _query("stage", "conversation stage", STAGE),
                _query(
                    "type", "customer or dealer", {"type": "string", "enum": ["customer", "dealer"]}
                ),
                _query("assignee", "agent owning the conversation", TEXT),
                _query(
                    "q",
                    "text search over phone and recent history",
                    {**TEXT, "maxLength": 200},
                ),
                LIMIT,
                CURSOR,
            ],
            errors=(403, 422),
        )
    },
    "/api/conversations/{id}": {
        "get": _op(
            "One conversation",
            ALL,
            _ok("Conversation"),
            params=[_path_id("conversation id")],
            errors=(403, 404, 422),
        )
    },
    "/api/conversations/{id}/messages": {
        "get": _op(
            "Messages of a conversation, oldest first",
            ALL,
            _ok("MessagePage"),
            params=[_path_id("conversation id"), LIMIT, CURSOR],
            errors=(403, 404, 422),
        )
    },
    "/api/conversations/{id}/timeline": {
        "get": _op(
            "Every event of the conversation stream (audit view)",
            ALL,
            _ok("Timeline"),
            params=[
                _path_id("conversation id"),
                _query(
                    "after",
                    "only events after this stream version",
                    {"type": "integer", "minimum": 0, "maximum": 2**31},
                ),
                _query(
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
        "post": _op(
            "Reply as the agent, through the outbox"
            " (409 with a template hint outside the 24-hour window)",
            STAFF,
            _ok("ActionResult", "queued"),
            params=[_path_id("conversation id")],
            errors=(403, 404, 409, 422),
            body={"required": True, "content": {"application/json": {"schema": ref("ReplyBody")}}},
            ok_status="202",
        )
    },
    "/api/review": {
        "get": _op(
            "The review queue, newest first",
            STAFF,
            _ok("ReviewPage"),
            params=[
                _query(
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
        "post": _op(
            "Dismiss an open review item",
            STAFF,
            _ok("ReviewItem"),
            params=[_path_id("review item id")],
            errors=(403, 404, 409, 422),
        )
    },
    "/api/review/{id}/retry": {"post": _retry_op()},
    "/api/dealers": {"get": _op("Dealers", ALL, _ok("DealerList"), errors=(422,))},
    "/api/catalog": {
        "get": _op(
            "Products with price and stock",
            ALL,
            _ok("ProductList"),
            params=[_query("dealer", "only this dealer's products (staff)", WORD)],
            errors=(422,),
        )
    },
    "/api/orders": {
        "get": _op(
            "Order relays, newest first (empty until order relays are projected)",
            ALL,
            _ok("OrderPage"),
            params=[
                _query("status", "relay status", WORD),
                _query("dealer", "dealer id (staff)", WORD),
                LIMIT,
                CURSOR,
            ],
            errors=(422,),
        )
    },
    "/api/counters": {"get": _op("Dashboard counters", STAFF, _ok("Counters"), errors=(403, 422))},
    "/api/stream": {
        "get": _op(
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
                _query(
                    "after",
                    "same as Last-Event-ID, for clients that cannot set headers",
                    {"type": "integer", "minimum": 0},
                ),
            ],
            errors=(422,),
        )
    },
    "/api/openapi.json": {
        "get": _op(
            "This document",
            ALL,
            {
                "description": "the OpenAPI 3.1 document",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        )
    },
}

PATHS.update(
    {
        "/api/devices": {
            "get": _op(
                "Registered push devices, oldest first (fingerprints, never tokens)",
                STAFF,
                _ok("DeviceList"),
                params=[
                    _query(
                        "owner_kind",
                        "rider, support or customer",
                        {"type": "string", "enum": ["rider", "support", "customer"]},
                    ),
                    _query("owner_id", "the owner's phone or agent name", TEXT),
                ],
                errors=(403, 422),
            ),
            "post": _with_created(
                _op(
                    "Register a push device token (201), or move an existing one (200);"
                    " recorded as notify.device_registered",
                    STAFF,
                    _ok("Device", "moved to the new owner"),
                    errors=(403, 422),
                    body={
                        "required": True,
                        "content": {"application/json": {"schema": ref("DeviceBody")}},
                    },
                )
            ),
        },
        "/api/devices/{token}": {
            "delete": _op(
                "Forget a push device by its token or its fingerprint;"
                " recorded as notify.device_removed",
                STAFF,
                _ok("DeviceRemoved"),
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
