"""A fake of Meta's Graph API (WhatsApp Cloud API) on 127.0.0.1, speaking the real JSON.

It answers ``POST /{version}/{phone_number_id}/messages`` like Meta (shape checks with
error 100, token checks with error 190), serves media metadata and downloads, records
every request in :attr:`FakeGraphApi.requests`, and plays a script of failures (HTTP
500, rate limits, permanent errors, slow answers, dropped connections) per call or per
recipient, or an *outage* (:meth:`FakeGraphApi.outage`) that answers every send the
same way until :meth:`FakeGraphApi.recover`. With ``webhook_url`` and ``app_secret`` it
also posts signed ``sent``, ``delivered`` and ``read`` status webhooks for each
accepted message, in the v24+ pricing shape (``pricing_model: "PMP"``, no
``conversation`` block).

Run alone for load and crash tests: ``python -m adapters.fakes.graph_api --port 8999``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """How the fake answers one send: ``ok``, ``error`` (Meta code), ``sleep`` or ``reset``."""

    kind: Literal["ok", "error", "sleep", "reset"]
    code: int | None = None
    http_status: int | None = None
    retry_after: int | None = None  # seconds, sent as a Retry-After header
    seconds: float = 0.0

    @classmethod
    def ok(cls) -> Behaviour:
        """Accept the message."""
        return cls(kind="ok")

    @classmethod
    def error(
        cls, code: int, http_status: int | None = None, retry_after: int | None = None
    ) -> Behaviour:
        """Answer Meta's error ``code`` (HTTP status as Meta would, unless given)."""
        return cls(kind="error", code=code, http_status=http_status, retry_after=retry_after)

    @classmethod
    def server_error(cls) -> Behaviour:
        """HTTP 500 with Meta's "unknown error" body (code 1)."""
        return cls(kind="error", code=1, http_status=500)

    @classmethod
    def sleep(cls, seconds: float) -> Behaviour:
        """Wait ``seconds``, then accept: a shorter client timeout fires, yet the message
        still counts as sent (and its webhooks go out), as when Meta is slow."""
        return cls(kind="sleep", seconds=seconds)

    @classmethod
    def reset(cls) -> Behaviour:
        """Read the request, then close the connection without answering."""
        return cls(kind="reset")


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeRequest:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any  # parsed body, or None when it was not JSON (or a GET)


@dataclass(slots=True, kw_only=True)
class WebhookDelivery:
    """One status webhook the fake posted to our service, and what came back."""

    body: bytes
    signature: str
    http_status: int | None  # None when the POST itself failed
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class _Media:
    content: bytes
    mime_type: str
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.content).hexdigest()


class FakeGraphApi:
    """The fake server; ``await start()`` returns its base URL, ``await close()`` stops it."""

    def __init__(
        self,
        *,
        access_token: str = "test-token",  # noqa: S107 - a fake's well-known token
        phone_number_id: str = "106540352242922",
        display_phone_number: str = "15550783881",
        waba_id: str = "102290129340398",
        webhook_url: str | None = None,
        app_secret: str | None = None,
        status_delay: float = 0.0,
    ) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.status_delay = status_delay
        self.requests: list[FakeRequest] = []
        self.accepted: list[dict[str, Any]] = []  # bodies of sends answered with a wamid
        self.webhooks: list[WebhookDelivery] = []
        self.base_url = ""
        self._script: deque[Behaviour] = deque()
        self._by_phone: dict[str, deque[Behaviour]] = {}
        self._outage: Behaviour | None = None
        self._media: dict[str, _Media] = {}
        self._download_faults: dict[str, deque[int]] = {}
        self._counter = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._closed = False

    # -- script -------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Answer the next sends (whoever they are for) with ``behaviours``, in order."""
        self._script.extend(behaviours)

    def script_for(self, recipient: str, *behaviours: Behaviour) -> None:
        """Answer the next sends to ``recipient`` with ``behaviours`` (before the global script)."""
        self._by_phone.setdefault(_key(recipient), deque()).extend(behaviours)

    def outage(self, behaviour: Behaviour) -> None:
        """Answer every send not scripted otherwise with ``behaviour`` until :meth:`recover`."""
        self._outage = behaviour

    def recover(self) -> None:
        """End the outage: unscripted sends are accepted again."""
        self._outage = None

    def add_media(self, media_id: str, content: bytes, mime_type: str = "image/jpeg") -> None:
        """Make ``media_id`` fetchable and downloadable."""
        self._media[media_id] = _Media(content=content, mime_type=mime_type)

    def add_media_file(self, media_id: str, path: str | Path, mime_type: str) -> None:
        """Serve the bytes of a fixture file as ``media_id``."""
        self.add_media(media_id, Path(path).read_bytes(), mime_type)

    def fail_downloads(self, media_id: str, *statuses: int) -> None:
        """Answer the next downloads of ``media_id`` with these HTTP statuses (404: expired URL).

        A status of 0 is a stall: the fake waits 2 s before the bytes (a client timeout).
        """
        self._download_faults.setdefault(media_id, deque()).extend(statuses)

    def _next_behaviour(self, recipient: str) -> Behaviour:
        own = self._by_phone.get(_key(recipient))
        if own:
            return own.popleft()
        if self._script:
            return self._script.popleft()
        return self._outage or Behaviour.ok()

    # -- life cycle ---------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (for ``aiohttp_server`` or a custom runner)."""
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_get("/whatsapp_business/attachments/", self._download)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 = any free port) and return the base URL."""
        self._runner = web.AppRunner(self.make_app(), handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}"
        return self.base_url

    async def drain(self) -> None:
        """Wait until every pending status webhook has been posted."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop webhooks and the server."""
        self._closed = True  # a slow send still sleeping must not start new webhooks
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- handlers -----------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        headers = dict(request.headers.items())
        self.requests.append(
            FakeRequest(method=request.method, path=request.path, headers=headers, json=parsed)
        )
        return parsed

    def _authorised(self, request: web.Request) -> bool:
        expected = f"Bearer {self.access_token}"
        return hmac.compare_digest(request.headers.get("Authorization", ""), expected)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        if not self._authorised(request):
            return _error(190)
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return _error(
                100, subcode=33, message=_no_object(request.match_info["phone_number_id"])
            )
        problem = message_problem(body)
        if problem is not None:
            return _error(100, details=problem)
        if body.get("status") == "read":
            return web.json_response({"success": True})
        recipient = str(body.get("to") or body.get("recipient"))
        behaviour = self._next_behaviour(recipient)
        if behaviour.kind == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response()  # never reaches the client
        if behaviour.kind == "error" and behaviour.code is not None:
            response = _error(behaviour.code, http_status=behaviour.http_status)
            if behaviour.retry_after is not None:
                response.headers["Retry-After"] = str(behaviour.retry_after)
            return response
        if behaviour.kind == "sleep":
            await asyncio.sleep(behaviour.seconds)
        return web.json_response(self._accept(body, recipient))

    def _accept(self, body: dict[str, Any], recipient: str) -> dict[str, Any]:
        self._counter += 1
        wamid = f"wamid.FAKE{self._counter:016d}"
        self.accepted.append(body)
        if body.get("to"):
            contact = {"input": recipient, "wa_id": _key(recipient)}
        else:
            contact = {"input": recipient, "user_id": recipient}
        if self.webhook_url and self.app_secret and not self._closed:
            task = asyncio.get_running_loop().create_task(self._post_statuses(wamid, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}

    async def _media_info(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if not self._authorised(request):
            return _error(190)
        media_id = request.match_info["media_id"]
        media = self._media.get(media_id)
        if media is None:
            return _error(100, subcode=33, message=_no_object(media_id))
        url = f"{self.base_url}/whatsapp_business/attachments/?mid={media_id}&ext=1&hash=fake"
        return web.json_response(
            media_json(media_id, url, media.mime_type, media.sha256, len(media.content))
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        await self._record(request)
        if not self._authorised(request):
            return web.Response(status=401, text="Unauthorized")
        media_id = request.query.get("mid", "")
        media = self._media.get(media_id)
        faults = self._download_faults.get(media_id)
        if media is None or (faults and faults[0] == 404 and faults.popleft()):
            return web.Response(status=404, text="Not Found")
        if faults and faults[0] == 0:
            faults.popleft()
            await asyncio.sleep(2.0)
        elif faults:
            return _error(1, http_status=faults.popleft())
        return web.Response(body=media.content, content_type=media.mime_type)

    # -- status webhooks ----------------------------------------------------------------

    async def _post_statuses(self, wamid: str, body: dict[str, Any]) -> None:
        for status in ("sent", "delivered", "read"):
            if self.status_delay:
                await asyncio.sleep(self.status_delay)
            payload = status_webhook(
                waba_id=self.waba_id,
                phone_number_id=self.phone_number_id,
                display_phone_number=self.display_phone_number,
                wamid=wamid,
                status=status,
                timestamp=int(time.time()),
                request=body,
            )
            await self._post_webhook(json.dumps(payload, separators=(",", ":")).encode())

    async def _post_webhook(self, raw: bytes) -> None:
        assert self.webhook_url is not None
        assert self.app_secret is not None
        if self._client is None:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        digest = hmac.new(self.app_secret.encode(), raw, hashlib.sha256).hexdigest()
        signature = f"sha256={digest}"
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        delivery = WebhookDelivery(body=raw, signature=signature, http_status=None)
        try:
            async with self._client.post(self.webhook_url, data=raw, headers=headers) as resp:
                delivery.http_status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.error = repr(exc)
        self.webhooks.append(delivery)


def _key(recipient: str) -> str:
    """Phones compare by digits (``+39 333...`` is ``39333...``); BSUIDs as they are."""
    digits = "".join(ch for ch in recipient if ch.isdigit())
    return digits if recipient.lstrip("+").replace(" ", "").isdigit() else recipient


def _no_object(object_id: str) -> str:
    return (
        f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation."
    )


def _error(
    code: int,
    *,
    http_status: int | None = None,
    subcode: int | None = None,
    message: str | None = None,
    details: str | None = None,
) -> web.Response:
    status, body = error_body(
        code, http_status=http_status, subcode=subcode, message=message, details=details
    )
    return web.json_response(body, status=status)


# -- Meta's JSON shapes ---------------------------------------------------------------------

# code -> (HTTP status, title, details), worded as Meta words them.
_ERRORS: dict[int, tuple[int, str, str]] = {
    1: (500, "An unknown error has occurred.", "An unknown error occurred."),
    2: (503, "Service temporarily unavailable", "Temporary due to downtime or overload."),
    4: (429, "Application request limit reached", "The app has reached its API call limit."),
    100: (400, "Invalid parameter", "Invalid parameter."),
    190: (
        401,
        "Error validating access token: Session has expired.",
        "Authentication Error: the access token has expired or is invalid.",
    ),
    368: (403, "Temporarily blocked for policies violations", "Account restricted."),
    80007: (429, "Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: (429, "Rate limit hit", "Cloud API message throughput has been reached."),
    131000: (500, "Something went wrong", "Message failed to send due to an unknown error."),
    131026: (400, "Message Undeliverable", "Message Undeliverable."),
    131031: (403, "Account has been locked", "Business Account locked."),
    131047: (
        400,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131051: (400, "Unsupported message type", "Message type is not currently supported."),
    131056: (
        429,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time.",
    ),
    133004: (503, "Server temporarily unavailable", "Server is temporarily unavailable."),
}


def error_body(
    code: int,
    *,
    http_status: int | None = None,
    subcode: int | None = None,
    message: str | None = None,
    details: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Meta's HTTP status and ``{"error": {...}}`` body for ``code``."""
    status, title, default_details = _ERRORS.get(code, (400, "Error", "Request failed."))
    error: dict[str, Any] = {
        "message": message or (title if code in {1, 2, 190} else f"(#{code}) {title}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details or default_details},
        "fbtrace_id": f"AFakeTrace{code:06d}",
    }
    if code == 190:
        subcode = subcode or 463
        del error["error_data"]
    if subcode is not None:
        error["error_subcode"] = subcode
    return http_status or status, {"error": error}


_TYPES = frozenset(
    {
        "text",
        "interactive",
        "template",
        "reaction",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
    }
)


def message_problem(body: Any) -> str | None:
    """Why ``body`` is not a valid send request (Meta's error 100 details), or None."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "The parameter messaging_product is required."
    if body.get("status") == "read":
        ok = isinstance(body.get("message_id"), str) and body["message_id"]
        return None if ok else "The parameter message_id is required."
    if not isinstance(body.get("to") or body.get("recipient"), str):
        return "The parameter to is required."
    kind = body.get("type", "text")
    if kind not in _TYPES:
        return f'Param type must be one of {{{", ".join(sorted(_TYPES))}}} - got "{kind}".'
    if not isinstance(body.get(kind), dict):
        return f"The parameter {kind} is required."
    return _content_problem(kind, body[kind])


def _content_problem(kind: str, obj: dict[str, Any]) -> str | None:
    if kind == "text":
        text = obj.get("body")
        ok = isinstance(text, str) and 0 < len(text) <= 4096
        return None if ok else "Param text['body'] is required and must be 1-4096 characters."
    if kind == "template":
        lang = obj.get("language")
        if not obj.get("name") or not isinstance(lang, dict) or not lang.get("code"):
            return "Param template['name'] and template['language']['code'] are required."
        return None
    if kind == "reaction":
        return None if obj.get("message_id") else "Param reaction['message_id'] is required."
    if kind == "interactive":
        return _interactive_problem(obj)
    return None


def _interactive_problem(obj: dict[str, Any]) -> str | None:
    body, action = obj.get("body"), obj.get("action")
    if not isinstance(body, dict) or not body.get("text") or not isinstance(action, dict):
        return "Param interactive['body']['text'] and interactive['action'] are required."
    if obj.get("type") == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return "Param interactive['action']['buttons'] must have 1-3 items."
        titles = [b.get("reply", {}).get("title", "") for b in buttons if isinstance(b, dict)]
        if len(titles) != len(buttons) or any(not 0 < len(t) <= 20 for t in titles):
            return "Button title length invalid. Min length: 1, Max length: 20"
        return None
    if obj.get("type") == "list":
        sections = action.get("sections")
        if not isinstance(sections, list) or not sections or not action.get("button"):
            return "Param interactive['action']['sections'] and ['button'] are required."
        rows = [r for s in sections if isinstance(s, dict) for r in s.get("rows", [])]
        if not 1 <= len(rows) <= 10 or any(not 0 < len(r.get("title", "")) <= 24 for r in rows):
            return "Total row count must be 1-10 and row titles 1-24 characters."
        return None
    return "Param interactive['type'] must be one of {button, list, product, product_list}."


def media_json(media_id: str, url: str, mime_type: str, sha256: str, size: int) -> dict[str, Any]:
    """``GET /{version}/{media_id}``'s answer."""
    return {
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": mime_type,
        "sha256": sha256,
        "file_size": str(size),  # Meta sends the size as a string
        "id": media_id,
    }


def status_webhook(
    *,
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str,
    wamid: str,
    status: str,
    timestamp: int,
    request: dict[str, Any],
) -> dict[str, Any]:
    """A ``statuses`` webhook for the message sent with ``request``, v24+ shape."""
    recipient = str(request.get("to") or request.get("recipient"))
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(timestamp)}
    if request.get("to"):
        item["recipient_id"] = _key(recipient)
    else:
        item["recipient_user_id"] = recipient
    if "biz_opaque_callback_data" in request:
        item["biz_opaque_callback_data"] = request["biz_opaque_callback_data"]
    if status != "read":  # pricing rides on sent and delivered only
        template = request.get("type") == "template"
        item["pricing"] = {
            "billable": template,
            "pricing_model": "PMP",
            "type": "regular" if template else "free_customer_service",
            "category": "utility" if template else "service",
        }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
        "statuses": [item],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the fake alone until interrupted; prints its base URL on the first line."""
    parser = argparse.ArgumentParser(description="A fake of Meta's Graph API on 127.0.0.1.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--access-token", default="test-token")
    parser.add_argument("--phone-number-id", default="106540352242922")
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--app-secret", default=None)
    parser.add_argument("--status-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake = FakeGraphApi(
        access_token=args.access_token,
        phone_number_id=args.phone_number_id,
        webhook_url=args.webhook_url,
        app_secret=args.app_secret,
        status_delay=args.status_delay,
    )
    asyncio.run(_serve(fake, args.host, args.port))
    return 0


async def _serve(fake: FakeGraphApi, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(await fake.start(host, port), flush=True)
    try:
        await stop.wait()
    finally:
        await fake.close()


if __name__ == "__main__":
    raise SystemExit(main())
