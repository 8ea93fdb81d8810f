"""``POST /simulate`` in the OpenAPI document, with the limits the handler enforces.

The numbers come from ``adapters/web/simulate_rules.py``, so the document and the door
cannot disagree. The route lives outside ``/api`` (it is the development simulator), but
clients that generate code from the document should know its rules too.
"""

from __future__ import annotations

from adapters.web.api.openapi_schemas import Json
from adapters.web.simulate_rules import MAX_TEXT_CHARS, MAX_WAIT_SECONDS

SIMULATE_SCHEMAS: Json = {
    "SimulateText": {
        "type": "object",
        "required": ["from", "text"],
        "properties": {
            "from": {
                "type": "string",
                "description": "the customer's phone, e.g. +39...",
                "minLength": 1,
                "maxLength": 32,
            },
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_TEXT_CHARS,
                "description": "the message; WhatsApp caps a text at 4,096 characters",
            },
        },
    },
    "SimulateError": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": {"type": "string"},
            "field": {"type": "string", "description": "the input that broke a rule"},
            "status": {"type": "integer"},
        },
    },
}


def _answer(description: str) -> Json:
    schema = {"$ref": "#/components/schemas/SimulateError"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


WAIT: Json = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": "seconds to wait for the bot's replies to that phone (422 otherwise)",
    "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
}

SIMULATE_PATHS: Json = {
    "/simulate": {
        "post": {
            "summary": "Ingest a customer message as if Meta had delivered it (development)",
            "description": "Open while DASHBOARD_TOKEN is unset; otherwise that token, a staff"
            " API token, or a dashboard session with X-CSRF-Token. A full Meta webhook body is"
            f" also accepted; its text bodies obey the same {MAX_TEXT_CHARS}-character limit."
            " Answers 404 when SIMULATE_ENABLED is off.",
            "security": [{}, {"bearer": []}],
            "parameters": [WAIT],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SimulateText"}}
                },
            },
            "responses": {
                "200": {
                    "description": "recorded; with wait, the replies sent to that phone",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": _answer("the body is not JSON"),
                "401": _answer("DASHBOARD_TOKEN is set and no valid credential was given"),
                "403": _answer("a dealer's credential, or a session without its CSRF token"),
                "404": _answer("the simulator is disabled"),
                "422": _answer("a rule broken: field names wait, text, from or the body"),
            },
        }
    }
}
