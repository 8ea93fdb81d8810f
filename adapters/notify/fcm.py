"""FCM HTTP v1 client: ``POST {api_base}/v1/projects/{project}/messages:send``.

The OAuth2 access token comes from the service-account JSON: google-auth signs the
JWT-bearer assertion (RS256 with the account's private key) and we exchange it at
``token_uri`` (configurable, so tests use a local fake), caching it until shortly before
it expires. Errors: ``UNREGISTERED`` tokens raise the port's
:class:`~core.ports.UnregisteredTokenError` (the caller removes the token); 429 and 5xx
are :class:`~core.ports.TransientError`; other refusals are
:class:`~core.ports.PermanentError`. A 401 refreshes the token once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import google.auth.crypt
import google.auth.jwt

from core.ports import PermanentError, TransientError, UnregisteredTokenError

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
DEFAULT_API_BASE = "https://fcm.googleapis.com"
MAX_MESSAGE_BYTES = 4096


def build_message(token: str, title: str, body: str, data: Mapping[str, str]) -> dict[str, Any]:
    """The FCM v1 request body; ``body`` is shortened so the whole stays under 4 KB."""
    clean = {str(k): str(v) for k, v in data.items()}
    message: dict[str, Any] = {
        "message": {"token": token, "notification": {"title": title, "body": body}, "data": clean}
    }
    while len(json.dumps(message).encode()) > MAX_MESSAGE_BYTES and body:
        body = body[: max(0, len(body) - 256)]
        message["message"]["notification"]["body"] = body
    if len(json.dumps(message).encode()) > MAX_MESSAGE_BYTES:
        raise PermanentError("notification data alone is over FCM's 4 KB limit")
    return message


class FcmClient:
    """Sends one notification to one device token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        project_id: str,
        service_account: Mapping[str, Any],
        api_base: str = DEFAULT_API_BASE,
        token_uri: str | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.project_id = project_id
        self.url = f"{api_base.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self.token_uri = token_uri or str(service_account.get("token_uri") or DEFAULT_TOKEN_URI)
        self._email = str(service_account.get("client_email") or "")
        self._signer = google.auth.crypt.RSASigner.from_service_account_info(  # type: ignore[no-untyped-call]
            service_account
        )
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0

    async def send(self, token: str, *, title: str, body: str, data: Mapping[str, str]) -> str:
        """Send; returns FCM's message name. Raises the errors in the module docstring."""
        message = build_message(token, title, body, data)
        for attempt in (1, 2):
            status, answer = await self._post(message)
            if status == 401 and attempt == 1:
                self._token = None
                continue
            return _outcome(status, answer)
        raise PermanentError("FCM refused our access token twice")

    async def _post(self, message: dict[str, Any]) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {await self._access_token()}"}
        try:
            async with self.session.post(
                self.url, json=message, headers=headers, timeout=self._timeout
            ) as resp:
                return resp.status, await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise TransientError(f"FCM unreachable: {type(exc).__name__}: {exc}") from exc

    async def _access_token(self) -> str:
        now = self._clock()
        if self._token is not None and now < self._expires - 60:
            return self._token
        claims = {
            "iss": self._email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": int(now),
            "exp": int(now) + 3600,
        }
        assertion_bytes = google.auth.jwt.encode(self._signer, claims)  # type: ignore[no-untyped-call]
        assertion = assertion_bytes.decode()
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        try:
            async with self.session.post(self.token_uri, data=form, timeout=self._timeout) as resp:
                answer = await resp.json(content_type=None)
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            raise TransientError(f"OAuth2 token endpoint unreachable: {exc}") from exc
        if status != 200 or not isinstance(answer, dict) or "access_token" not in answer:
            raise PermanentError(f"OAuth2 token endpoint answered {status}")
        self._token = str(answer["access_token"])
        self._expires = now + float(answer.get("expires_in", 3600))
        return self._token


def _outcome(status: int, answer: Any) -> str:
    if status == 200 and isinstance(answer, dict) and answer.get("name"):
        return str(answer["name"])
    code = _fcm_code(answer)
    if code == "UNREGISTERED":
        raise UnregisteredTokenError("FCM: the device token is unregistered")
    if status == 429 or status >= 500:
        raise TransientError(f"FCM answered {status} {code or ''}".strip())
    raise PermanentError(f"FCM refused the message: {status} {code or ''}".strip())


def _fcm_code(answer: Any) -> str | None:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status")) if error.get("status") else None
