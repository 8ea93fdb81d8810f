"""Small builders of the OpenAPI document: operations, parameters, answers, errors."""

from __future__ import annotations

from adapters.web.api.openapi_schemas import Json, ref

STAFF = "Roles: admin, support."
ALL = "Roles: admin, support, dealer (a dealer sees only its own rows)."


def error_answer(description: str) -> Json:
    """An error answer with the Error shape."""
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def ok_answer(schema: str, description: str = "OK") -> Json:
    """A JSON answer of component ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def query_param(name: str, description: str, schema: Json) -> Json:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def path_id(what: str) -> Json:
    """The ``{id}`` path parameter."""
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": what,
        "schema": {"type": "string", "pattern": "^[^\\u0000-\\u001f\\u007f]+$"},
    }


def operation(
    summary: str,
    roles: str,
    ok: Json,
    *,
    params: list[Json] | None = None,
    errors: tuple[int, ...] = (),
    body: Json | None = None,
    ok_status: str = "200",
) -> Json:
    """One operation: summary, roles, answers (401 always), parameters and body."""
    responses: Json = {
        ok_status: ok,
        "401": error_answer("missing, unknown, expired or revoked token"),
    }
    texts = {
        403: "the token's role or dealer may not do this",
        404: "no such resource",
        409: "not allowed in the current state",
        422: "invalid parameter or body",
    }
    for code in errors:
        responses[str(code)] = error_answer(texts[code])
    op: Json = {
        "summary": summary,
        "description": roles,
        "parameters": params or [],
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = body
    return op


def with_created(op: Json) -> Json:
    """``op`` also answering 201 for a new device, besides its 200."""
    return {**op, "responses": {"201": ok_answer("Device", "registered"), **op["responses"]}}


LIMIT = query_param("limit", "page size", {"type": "integer", "minimum": 1, "maximum": 200})
# Opaque (base64url); any other string is answered 422.
CURSOR = query_param(
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
