"""GraphMessenger against the fake Graph API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.meta.graph import GraphMessenger, error_from_response
from core.outbound import (
    Button,
    ButtonsMessage,
    ListMessage,
    MarkRead,
    OutboundContent,
    OutboundMessage,
    ReactionMessage,
    Row,
    Section,
    TemplateMessage,
    TextMessage,
    payload_for,
)
from core.send_errors import PermanentSendError, SendError, TransientSendError

TO = "+393331234567"
SECRET = "app-secret"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    """A running fake Graph API."""
    server = FakeGraphApi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP client session the adapter is given."""
    async with aiohttp.ClientSession() as client:
        yield client


def _messenger(
    session: aiohttp.ClientSession,
    fake: FakeGraphApi,
    *,
    access_token: str | None = None,
    phone_number_id: str | None = None,
    api_version: str = "v25.0",
    timeout: float = 2.0,
    max_media_bytes: int = 100 * 1024 * 1024,
) -> GraphMessenger:
    return GraphMessenger(
        session,
        base_url=fake.base_url,
        api_version=api_version,
        phone_number_id=phone_number_id or fake.phone_number_id,
        access_token=access_token or fake.access_token,
        timeout=timeout,
        max_media_bytes=max_media_bytes,
    )


@pytest.fixture
def messenger(session: aiohttp.ClientSession, fake: FakeGraphApi) -> GraphMessenger:
    """The adapter pointed at the fake."""
    return _messenger(session, fake)


def _out(content: OutboundContent, outbound_id: str = "out-1", to: str = TO) -> OutboundMessage:
    return OutboundMessage(outbound_id=outbound_id, to=to, content=content)


async def _send_error(messenger: GraphMessenger, message: OutboundMessage) -> SendError:
    with pytest.raises(SendError) as caught:
        await messenger.send(message)
    return caught.value


# -- the request -----------------------------------------------------------------------------


async def test_send_posts_to_the_phone_number_messages_url(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """The URL is {base}/v25.0/{phone_number_id}/messages."""
    await messenger.send(_out(TextMessage(body="Ciao")))
    request = fake.requests[0]
    assert (request.method, request.path) == ("POST", f"/v25.0/{fake.phone_number_id}/messages")


async def test_send_uses_the_bearer_token(messenger: GraphMessenger, fake: FakeGraphApi) -> None:
    """The access token goes in the Authorization header."""
    await messenger.send(_out(TextMessage(body="Ciao")))
    assert fake.requests[0].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_api_version_is_configurable(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """Another Graph API version changes the path."""
    await _messenger(session, fake, api_version="v24.0").send(_out(TextMessage(body="x")))
    assert fake.requests[0].path.startswith("/v24.0/")


@pytest.mark.parametrize(
    "content",
    [
        TextMessage(body="Ciao", preview_url=True),
        ButtonsMessage(body="Confermi?", buttons=(Button(id="y", title="Sì"),), footer="Dloop"),
        ListMessage(
            body="Scegli",
            button_text="Apri",
            sections=(Section(title="S", rows=(Row(id="r", title="Uno", description="d"),)),),
        ),
        TemplateMessage(name="order_update", language="it", body_parameters=("Anna",)),
        ReactionMessage(message_id="wamid.IN1", emoji="👍"),
        MarkRead(message_id="wamid.IN1", typing=True),
    ],
    ids=["text", "buttons", "list", "template", "reaction", "mark_read"],
)
async def test_body_is_the_payload_for_each_kind(
    messenger: GraphMessenger, fake: FakeGraphApi, content: OutboundContent
) -> None:
    """The JSON Meta receives is exactly payload_for(message), and Meta accepts it."""
    message = _out(content)
    await messenger.send(message)
    assert fake.requests[0].json == payload_for(message)


async def test_reply_carries_context_and_callback_data(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """A quoted reply keeps context.message_id and our id as biz_opaque_callback_data."""
    message = OutboundMessage(
        outbound_id="out-9", to=TO, content=TextMessage(body="Sì"), reply_to="wamid.IN1"
    )
    await messenger.send(message)
    body = fake.requests[0].json
    assert body["context"] == {"message_id": "wamid.IN1"}
    assert body["biz_opaque_callback_data"] == "out-9"


async def test_send_returns_the_wamid_meta_gave(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """The result's wamid is the one in Meta's answer."""
    result = await messenger.send(_out(TextMessage(body="Ciao")))
    assert result.wamid == "wamid.FAKE0000000000000001"


# -- errors ----------------------------------------------------------------------------------


async def test_wrong_token_is_permanent_190_alerting_the_operator(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """An invalid token keeps Meta's fields and asks for a human."""
    messenger = _messenger(session, fake, access_token="expired")
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, PermanentSendError)
    assert (error.http_status, error.code, error.subcode) == (401, 190, 463)
    assert error.alert_operator
    assert error.fbtrace_id
    assert "access token" in error.message


@pytest.mark.parametrize(
    ("behaviour", "http_status", "code"),
    [
        (Behaviour.server_error(), 500, 1),
        (Behaviour.error(130429), 429, 130429),
        (Behaviour.error(131056), 429, 131056),
        (Behaviour.error(80007), 429, 80007),
        (Behaviour.error(131000), 500, 131000),
    ],
    ids=["http500", "throughput", "pair-rate", "waba-rate", "generic"],
)
async def test_transient_meta_errors_raise_transient_with_fields(
    messenger: GraphMessenger,
    fake: FakeGraphApi,
    behaviour: Behaviour,
    http_status: int,
    code: int,
) -> None:
    """Server errors and rate limits are transient with a known outcome."""
    fake.script(behaviour)
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, TransientSendError)
    assert (error.http_status, error.code) == (http_status, code)
    assert not error.outcome_unknown
    assert error.fbtrace_id is not None


@pytest.mark.parametrize("code", [131047, 131026, 131051])
async def test_permanent_meta_errors_keep_title_message_and_details(
    messenger: GraphMessenger, fake: FakeGraphApi, code: int
) -> None:
    """Window, undeliverable and unsupported errors are permanent with Meta's words."""
    fake.script(Behaviour.error(code))
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, PermanentSendError)
    assert (error.http_status, error.code) == (400, code)
    assert error.message.startswith(f"(#{code})")
    assert error.title == "OAuthException"
    assert error.details
    assert not error.alert_operator


async def test_retry_after_header_is_kept(messenger: GraphMessenger, fake: FakeGraphApi) -> None:
    """A Retry-After header reaches the error for the caller's backoff."""
    fake.script(Behaviour.error(130429, retry_after=12))
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert error.retry_after == 12.0


async def test_script_for_one_phone_leaves_others_alone(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """A per-recipient failure hits only that recipient."""
    fake.script_for("+393330000000", Behaviour.error(131026))
    assert (await messenger.send(_out(TextMessage(body="x")))).wamid
    with pytest.raises(PermanentSendError):
        await messenger.send(_out(TextMessage(body="x"), to="+393330000000"))


async def test_wrong_phone_number_id_is_permanent_100(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """An unknown sender number is Meta's error 100, subcode 33."""
    messenger = _messenger(session, fake, phone_number_id="999")
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, PermanentSendError)
    assert (error.code, error.subcode) == (100, 33)


async def test_fake_answers_100_to_a_malformed_request(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """A body with four buttons gets Meta's error 100, which maps to permanent."""
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": "t"}} for i in range(4)]
    body = {
        "messaging_product": "whatsapp",
        "to": TO,
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "x"}, "action": {"buttons": buttons}},
    }
    url = f"{fake.base_url}/v25.0/{fake.phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {fake.access_token}"}
    async with session.post(url, json=body, headers=headers) as response:
        status, answer = response.status, await response.json()
    error = error_from_response(status, answer)
    assert isinstance(error, PermanentSendError)
    assert (status, error.code) == (400, 100)
    assert error.details is not None
    assert "buttons" in error.details


async def test_timeout_is_transient_with_unknown_outcome(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """A send that times out may have been delivered: outcome_unknown."""
    fake.script(Behaviour.sleep(0.5))
    messenger = _messenger(session, fake, timeout=0.1)
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, TransientSendError)
    assert error.outcome_unknown
    assert error.http_status is None


async def test_connection_reset_is_transient_with_unknown_outcome(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """A dropped connection after the request was sent: outcome_unknown."""
    fake.script(Behaviour.reset())
    error = await _send_error(messenger, _out(TextMessage(body="x")))
    assert isinstance(error, TransientSendError)
    assert error.outcome_unknown
    assert len(fake.requests) == 1


async def test_refused_connection_is_transient_with_known_outcome(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listening means nothing was sent: safe to retry."""
    stopped = FakeGraphApi()
    await stopped.start()
    await stopped.close()
    error = await _send_error(_messenger(session, stopped), _out(TextMessage(body="x")))
    assert isinstance(error, TransientSendError)
    assert not error.outcome_unknown


def test_non_json_bad_gateway_is_transient() -> None:
    """A proxy's HTML 502 without Meta's body is still classified by status."""
    error = error_from_response(502, None)
    assert isinstance(error, TransientSendError)
    assert (error.http_status, error.code) == (502, None)


# -- media -----------------------------------------------------------------------------------


async def test_fetch_media_returns_url_type_hash_and_size(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """Media metadata comes from GET /{version}/{media_id} with the token."""
    fake.add_media("media-1", b"\xff\xd8jpeg", "image/jpeg")
    info = await messenger.fetch_media("media-1")
    assert (info.mime_type, info.file_size) == ("image/jpeg", 6)
    assert info.sha256 == hashlib.sha256(b"\xff\xd8jpeg").hexdigest()
    assert fake.requests[0].path == "/v25.0/media-1"
    assert fake.requests[0].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_download_media_sends_the_token_and_returns_the_bytes(
    messenger: GraphMessenger, fake: FakeGraphApi
) -> None:
    """The media URL is downloaded with the bearer token."""
    fake.add_media("media-1", b"OggS-audio", "audio/ogg")
    info = await messenger.fetch_media("media-1")
    assert await messenger.download_media(info.url) == b"OggS-audio"
    assert fake.requests[1].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_unknown_media_is_permanent(messenger: GraphMessenger) -> None:
    """A media id Meta does not know is error 100."""
    with pytest.raises(PermanentSendError) as caught:
        await messenger.fetch_media("nope")
    assert caught.value.code == 100


async def test_download_without_a_valid_token_is_refused(
    session: aiohttp.ClientSession, fake: FakeGraphApi, messenger: GraphMessenger
) -> None:
    """The download URL alone is not enough: the token is required."""
    fake.add_media("media-1", b"data")
    info = await messenger.fetch_media("media-1")
    with pytest.raises(PermanentSendError) as caught:
        await _messenger(session, fake, access_token="wrong").download_media(info.url)
    assert caught.value.http_status == 401


async def test_download_larger_than_the_cap_is_refused(
    session: aiohttp.ClientSession, fake: FakeGraphApi
) -> None:
    """Media over the size cap is not read into memory."""
    fake.add_media("big", b"x" * 2048)
    messenger = _messenger(session, fake, max_media_bytes=1024)
    info = await messenger.fetch_media("big")
    with pytest.raises(PermanentSendError, match="larger than 1024"):
        await messenger.download_media(info.url)


# -- status webhooks -------------------------------------------------------------------------


@dataclass(slots=True)
class Inbox:
    """What our stand-in webhook received."""

    deliveries: list[tuple[bytes, str]] = field(default_factory=list)


@pytest.fixture
async def webhook_fake() -> AsyncIterator[tuple[FakeGraphApi, Inbox]]:
    """A fake that posts status webhooks to a tiny receiving app."""
    inbox = Inbox()

    async def receive(request: web.Request) -> web.Response:
        inbox.deliveries.append((await request.read(), request.headers["X-Hub-Signature-256"]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server = FakeGraphApi(webhook_url=f"http://{host}:{port}/webhook", app_secret=SECRET)
    await server.start()
    yield server, inbox
    await server.close()
    await runner.cleanup()


def _statuses(inbox: Inbox) -> list[dict[str, object]]:
    out = []
    for raw, _ in inbox.deliveries:
        value = json.loads(raw)["entry"][0]["changes"][0]["value"]
        out.extend(value["statuses"])
    return out


async def test_status_webhooks_are_signed_with_the_app_secret(
    session: aiohttp.ClientSession, webhook_fake: tuple[FakeGraphApi, Inbox]
) -> None:
    """Each webhook's X-Hub-Signature-256 is the HMAC-SHA256 of its exact bytes."""
    fake, inbox = webhook_fake
    await _messenger(session, fake).send(_out(TextMessage(body="x")))
    await fake.drain()
    assert len(inbox.deliveries) == 3
    for raw, signature in inbox.deliveries:
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"


async def test_status_webhooks_go_sent_delivered_read_with_our_id(
    session: aiohttp.ClientSession, webhook_fake: tuple[FakeGraphApi, Inbox]
) -> None:
    """The statuses follow the message and carry biz_opaque_callback_data."""
    fake, inbox = webhook_fake
    result = await _messenger(session, fake).send(_out(TextMessage(body="x"), outbound_id="o-5"))
    await fake.drain()
    statuses = _statuses(inbox)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["id"] for s in statuses} == {result.wamid}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"o-5"}
    assert statuses[0]["recipient_id"] == "393331234567"


async def test_status_webhooks_use_per_message_pricing_without_conversation(
    session: aiohttp.ClientSession, webhook_fake: tuple[FakeGraphApi, Inbox]
) -> None:
    """v24+ shape: pricing_model PMP with type and category, no conversation block."""
    fake, inbox = webhook_fake
    await _messenger(session, fake).send(_out(TemplateMessage(name="t", language="it")))
    await fake.drain()
    sent = _statuses(inbox)[0]
    assert "conversation" not in sent
    assert sent["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "utility",
    }


# -- standalone process ----------------------------------------------------------------------


async def test_fake_runs_as_a_standalone_process(session: aiohttp.ClientSession) -> None:
    """``python -m adapters.fakes.graph_api --port 0`` prints its URL and accepts sends."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.fakes.graph_api", "--port", "0",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), 15)).decode().strip()
        messenger = GraphMessenger(
            session, base_url=base_url, phone_number_id="106540352242922", access_token="test-token"
        )
        assert (await messenger.send(_out(TextMessage(body="x")))).wamid
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 15) == 0
