"""``POST /simulate``: the development door into the same ingestion path as Meta's.

It accepts ``{"from": "+39...", "text": "...", "name": "..."}`` (wrapped into a
Meta-shaped text message; ``name``, optional, is the WhatsApp profile name, 1 to 100
characters) or any full Meta body, signs it, and hands it to the very handler path that
serves ``/webhook``. ``?wait=N`` (at most 30 s) returns what the sandbox sent to that phone
within N seconds. Input rules (``simulate_rules``): ``wait`` a number from 0 to 30, texts
at most 4,096 characters; a broken rule is a 422 naming the field, and nothing is ingested.

Access: open while ``DASHBOARD_TOKEN`` is unset (development). Once it is set, a request
needs one of: ``Authorization: Bearer <DASHBOARD_TOKEN>``; a staff API token
(``Authorization: Bearer <token>`` of role admin or support); or a logged-in dashboard
session (the session cookie plus the ``X-CSRF-Token`` header, as for every dashboard
action). No credentials, or unknown ones: 401; a wrong CSRF token or a dealer's
session or token: 403. A refused request is never ingested.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from typing import Any

from aiohttp import web

from adapters.auth.session import CSRF_HEADER, SESSION_COOKIE, csrf_ok
from adapters.auth.tokens import STAFF, AuthError
from adapters.meta.sandbox import SandboxSent
from adapters.meta.signature import sign
from adapters.web.keys import DEPS
from adapters.web.simulate_rules import (
    SimulateInputError,
    check_meta_texts,
    check_text,
    parse_wait,
)
from adapters.web.webhook import ingest_signed
from core.phones import normalize_phone

MAX_NAME = 100  # characters of a simulated profile name
QUIET_AFTER_REPLY = 0.4  # a turn's replies go out together; stop waiting after this


def text_delivery(phone_digits: str, text: str, *, name: str = "Simulatore") -> dict[str, Any]:
    """A Meta-shaped webhook body carrying one text message from ``phone_digits``."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "SIMULATED_WABA",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "390000000000",
                                "phone_number_id": "SIMULATED",
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": phone_digits}],
                            "messages": [
                                {
                                    "from": phone_digits,
                                    "id": f"wamid.SIM{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


async def simulate(request: web.Request) -> web.Response:
    """Sign the given message or body and ingest it like a webhook."""
    deps = request.app[DEPS]
    if not deps.settings.simulate_enabled:
        return web.json_response({"error": "simulate is disabled (SIMULATE_ENABLED)"}, status=404)
    refused = await _refusal(request, deps.settings.dashboard_token)
    if refused is not None:
        return refused
    try:
        document = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: not a 500
        return web.json_response({"error": "body must be JSON"}, status=400)
    try:
        wait = parse_wait(request.rel_url.query)
        body, phone = _delivery_for(document)
    except SimulateInputError as exc:
        return web.json_response(exc.to_json(), status=422)
    if body is None:
        return web.json_response(
            {"error": 'give {"from": "+39...", "text": "..."} or a full Meta webhook body'},
            status=422,
        )
    async with deps.sandbox.subscription() as replies:
        secret = deps.settings.whatsapp_app_secret or deps.simulate_secret
        response = await ingest_signed(request, body, sign(body, secret), secret)
        if response.status != 200 or wait <= 0 or phone is None:
            return response
        sent = await _collect(replies, phone, wait)
    assert response.text is not None
    result = json.loads(response.text)
    result["replies"] = [s.payload for s in sent]
    return web.json_response(result)


def _delivery_for(document: Any) -> tuple[bytes | None, str | None]:
    if not isinstance(document, dict):
        return None, None
    if document.get("object") == "whatsapp_business_account":
        check_meta_texts(document)
        return json.dumps(document, ensure_ascii=False).encode(), _first_sender(document)
    raw_from, text = document.get("from"), document.get("text")
    if not isinstance(raw_from, str) or not isinstance(text, str) or not text.strip():
        return None, None
    check_text("text", text)
    name = document.get("name", "Simulatore")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= MAX_NAME:
        raise SimulateInputError("name", f"name must be text of 1 to {MAX_NAME} characters")
    phone = normalize_phone(raw_from)
    if phone is None:
        raise SimulateInputError("from", f"from must be a phone number, got {raw_from[:40]!r}")
    body = text_delivery(phone.lstrip("+"), text, name=name.strip())
    return json.dumps(body, ensure_ascii=False).encode(), phone


def _first_sender(document: dict[str, Any]) -> str | None:
    """The phone of the first message in a full Meta body (for ``?wait``), if any."""
    try:
        raw = document["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    except (KeyError, IndexError, TypeError):
        return None
    return normalize_phone(str(raw))


async def _collect(
    replies: asyncio.Queue[SandboxSent], phone: str, wait: float
) -> list[SandboxSent]:
    """Replies to ``phone`` until ``wait`` s pass, or until a short quiet after the first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    found: list[SandboxSent] = []
    while (left := deadline - loop.time()) > 0:
        if found:
            left = min(left, QUIET_AFTER_REPLY)
        try:
            sent = await asyncio.wait_for(replies.get(), left)
        except TimeoutError:
            break
        if sent.message.to.lstrip("+") == phone.lstrip("+"):
            found.append(sent)
    return found


async def _refusal(request: web.Request, token: str | None) -> web.Response | None:
    """None when the caller may simulate (see the module docstring), else the refusal."""
    if token is None:
        return None
    header = request.headers.get("Authorization")
    if header is not None:
        if hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return _refuse(401, "a valid bearer token or a dashboard session is required")
        return await _staff(request, secret.strip())
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return _refuse(401, "a valid bearer token or a dashboard session is required")
    if not csrf_ok(request, session):
        return _refuse(403, f"the {CSRF_HEADER} header is missing or wrong for this session")
    return await _staff(request, session)


async def _staff(request: web.Request, secret: str) -> web.Response | None:
    try:
        record = await request.app[DEPS].tokens.authenticate(secret)
    except AuthError as exc:
        return _refuse(401, str(exc))
    if record.role not in STAFF:
        return _refuse(403, f"the {record.role.value} role may not use the simulator")
    return None


def _refuse(status: int, message: str) -> web.Response:
    response = web.json_response({"error": message, "status": status}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="dloop"'
    return response
