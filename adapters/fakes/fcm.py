"""A fake of Google's OAuth2 token endpoint and FCM HTTP v1 on 127.0.0.1.

``POST /token`` takes the JWT-bearer grant a service account signs (the assertion is
decoded, its signature checked against the key given to the fake when one is) and
answers an access token. ``POST /v1/projects/{project}/messages:send`` checks the bearer
token and the message shape (string ``data`` values, body under 4 KB) and answers like
FCM, including ``404 UNREGISTERED`` for the tokens listed in :attr:`FakeFcm.unregistered`.
"""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

import google.auth.jwt
from aiohttp import web

from adapters.fakes.base import LocalServer

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
MAX_MESSAGE_BYTES = 4096


class FakeFcm(LocalServer):
    """The fake; ``sent`` holds every accepted message, ``grants`` every token grant."""

    def __init__(self, *, public_cert: bytes | None = None) -> None:
        self.public_cert = public_cert
        self.unregistered: set[str] = set()
        self.sent: list[dict[str, Any]] = []
        self.grants: list[dict[str, Any]] = []
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_post("/token", self._token)
        app.router.add_post("/v1/projects/{project}/messages:send", self._send)
        return app

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = google.auth.jwt.decode(  # type: ignore[no-untyped-call]
                str(form.get("assertion", "")),
                certs=self.public_cert,
                verify=self.public_cert is not None,
            )
        except ValueError as exc:
            return web.json_response({"error": "invalid_grant", "detail": str(exc)}, status=400)
        self.grants.append(claims)
        token = f"ya29.fake-{secrets.token_hex(8)}"
        self._tokens.add(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        )

    async def _send(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self._tokens:
            return _error(401, "UNAUTHENTICATED", None, "Request had invalid credentials.")
        raw = await request.read()
        try:
            message = json.loads(raw)["message"]
        except (ValueError, KeyError, TypeError):
            return _error(400, "INVALID_ARGUMENT", None, "message is required")
        problem = _problem(message, len(raw))
        if problem is not None:
            return _error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", problem)
        if message["token"] in self.unregistered:
            return _error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
        self.sent.append(message)
        project = request.match_info["project"]
        return web.json_response({"name": f"projects/{project}/messages/{next(self._ids)}"})


def _problem(message: Any, size: int) -> str | None:
    if not isinstance(message, dict) or not isinstance(message.get("token"), str):
        return "message.token must be a string"
    data = message.get("data", {})
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return "message.data values must be strings"
    if size > MAX_MESSAGE_BYTES:
        return f"message is {size} bytes, over {MAX_MESSAGE_BYTES}"
    return None


def _error(status: int, code: str, fcm_code: str | None, text: str) -> web.Response:
    details = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}] if fcm_code else []
    body = {"error": {"code": status, "message": text, "status": code, "details": details}}
    return web.json_response(body, status=status)
