"""The real WhatsApp sender: Meta's Graph API over an injected ``aiohttp.ClientSession``.

One call per method, no retry loop: retrying (with :func:`core.send_errors.backoff_delay`)
is the outbox sender's job, because only it knows whether a retry is safe.

Errors (see :mod:`core.send_errors` for the tree):

* an HTTP error with Meta's ``{"error": {...}}`` body becomes a :class:`SendError`
  subclass chosen by :func:`core.send_errors.classify_send_error`, keeping Meta's code,
  subcode, title, message, details and ``fbtrace_id`` (quote it to Meta support);
* a timeout, a connection reset or an unreadable 200 on a *send* becomes a
  :class:`TransientSendError` with ``outcome_unknown=True``: the request may have
  reached Meta and been delivered, and Meta has no idempotency key, so the caller must
  not resend blindly (the status webhook, which carries our ``biz_opaque_callback_data``,
  may still tell). Failing to connect at all is plainly transient: nothing was sent.
  Media look-ups are reads, so their timeouts are plainly transient too.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from core.outbound import MediaInfo, OutboundMessage, SendResult, payload_for
from core.send_errors import PermanentSendError, SendError, TransientSendError, classify_send_error

MEDIA_MAX_BYTES = 100 * 1024 * 1024  # Meta's largest media (documents) is 100 MB

__all__ = [
    "MEDIA_MAX_BYTES",
    "GraphMessenger",
    "PermanentSendError",
    "SendError",
    "TransientSendError",
    "error_from_response",
]


class GraphMessenger:
    """Sends messages and reads media through ``{base_url}/{api_version}/...``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_version: str = "v25.0",
        phone_number_id: str,
        access_token: str,
        timeout: float = 10.0,
        max_media_bytes: int = MEDIA_MAX_BYTES,
    ) -> None:
        self._session = session
        self._root = f"{base_url.rstrip('/')}/{api_version}"
        self._phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_media_bytes = max_media_bytes
        self._download_timeout = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)

    def __repr__(self) -> str:
        # Never show the token.
        return f"GraphMessenger({self._root!r}, phone_number_id={self._phone_number_id!r})"

    async def send(self, message: OutboundMessage) -> SendResult:
        """POST one message; return Meta's wamid or raise a :class:`SendError`."""
        url = f"{self._root}/{self._phone_number_id}/messages"
        try:
            async with self._session.post(
                url, json=payload_for(message), headers=self._headers, timeout=self._timeout
            ) as response:
                body = await _json_or_none(response)
                if response.status >= 400:
                    raise error_from_response(response.status, body, response.headers)
        except aiohttp.ClientConnectorError as exc:
            raise TransientSendError(f"cannot connect to the Graph API: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _unknown_outcome(exc) from exc
        return SendResult(wamid=_wamid(body, message), outbound_id=message.outbound_id)

    async def fetch_media(self, media_id: str) -> MediaInfo:
        """GET a media item's metadata: a short-lived download URL, type, hash and size."""
        body = await self._get_json(f"{self._root}/{media_id}")
        try:
            return MediaInfo(
                url=str(body["url"]),
                mime_type=str(body["mime_type"]),
                sha256=str(body["sha256"]),
                file_size=int(body["file_size"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientSendError(f"unexpected media answer: {body!r}") from exc

    async def download_media(self, url: str) -> bytes:
        """GET the bytes at a media URL (bearer token required), at most ``max_media_bytes``."""
        try:
            async with self._session.get(
                url, headers=self._headers, timeout=self._download_timeout
            ) as response:
                if response.status >= 400:
                    body = await _json_or_none(response)
                    raise error_from_response(response.status, body, response.headers)
                if (response.content_length or 0) > self._max_media_bytes:
                    raise _too_large(response.content_length, self._max_media_bytes)
                return await _read_capped(response, self._max_media_bytes)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientSendError(f"media download failed: {exc!r}") from exc

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._session.get(
                url, headers=self._headers, timeout=self._timeout
            ) as response:
                body = await _json_or_none(response)
                if response.status >= 400:
                    raise error_from_response(response.status, body, response.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientSendError(f"Graph API read failed: {exc!r}") from exc
        if not isinstance(body, dict):
            raise TransientSendError(f"Graph API answered {response.status} without JSON")
        return body


async def _json_or_none(response: aiohttp.ClientResponse) -> Any:
    """The JSON body, or None when it is not JSON (a proxy's HTML 502, say)."""
    try:
        return await response.json(content_type=None)
    except ValueError:
        return None


def _wamid(body: Any, message: OutboundMessage) -> str | None:
    """Meta's message id from a 200; mark-as-read answers ``{"success": true}`` instead."""
    if isinstance(body, dict) and body.get("success") is True and "messages" not in body:
        return None
    try:
        return str(body["messages"][0]["id"])
    except (KeyError, IndexError, TypeError) as exc:
        raise TransientSendError(
            f"Graph API accepted {message.outbound_id} but gave no wamid: {body!r}",
            http_status=200,
            outcome_unknown=True,
        ) from exc


def error_from_response(status: int, body: Any, headers: Any = None) -> SendError:
    """Translate an HTTP error answer (Meta's error JSON or anything else) to our tree."""
    error = _dict(body.get("error")) if isinstance(body, dict) else {}
    data = _dict(error.get("error_data"))
    code = _int_or_none(error.get("code"))
    verdict = classify_send_error(status, code)
    cls = TransientSendError if verdict.transient else PermanentSendError
    message = str(error.get("message") or f"Graph API answered HTTP {status}")
    return cls(
        message,
        http_status=status,
        code=code,
        subcode=_int_or_none(error.get("error_subcode")),
        title=_str_or_none(error.get("error_user_title") or error.get("type")),
        details=_str_or_none(data.get("details")),
        fbtrace_id=_str_or_none(error.get("fbtrace_id")),
        retry_after=_retry_after(headers),
        alert_operator=verdict.alert_operator,
    )


def _unknown_outcome(exc: BaseException) -> TransientSendError:
    what = "timed out" if isinstance(exc, TimeoutError) else f"lost the connection ({exc!r})"
    return TransientSendError(
        f"Graph API send {what}: the message may or may not have been sent",
        outcome_unknown=True,
    )


def _too_large(size: int | None, cap: int) -> PermanentSendError:
    return PermanentSendError(f"media larger than {cap} bytes ({size})")


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        total += len(chunk)
        if total > cap:
            raise _too_large(total, cap)
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from Meta, ignored


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
