"""Hostile input over a real socket: nothing yields a 5xx or a traceback, nothing is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from adapters.bootstrap import Deps
from adapters.meta.signature import sign
from tests.e2e.conftest import SECRET, Client
from tests.e2e.test_webhook_http import body_for

pytestmark = pytest.mark.e2e
Make = Callable[..., Awaitable[tuple[Client, Deps]]]


async def _raw(client: Client, request: bytes, *, pause: float = 0.0, tail: bytes = b"") -> bytes:
    """Send raw bytes to the server, optionally pausing before the rest; return the answer."""
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(request)
    await writer.drain()
    if pause:
        await asyncio.sleep(pause)
        writer.write(tail)
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    return answer


async def test_slow_body_is_cut_off_with_408(make_service: Make) -> None:
    """A client trickling its body past the read timeout gets 408 and nothing is stored."""
    client, deps = await make_service(body_read_timeout=0.3)
    body = body_for()
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-Hub-Signature-256: {sign(body, SECRET)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    answer = await _raw(client, head + body[:10], pause=1.0, tail=body[10:])
    assert answer.startswith(b"HTTP/1.1 408")
    assert await deps.store.read_all(0, 10) == []


async def test_deeply_nested_signed_json_is_recorded_as_invalid_not_a_crash(
    make_service: Make,
) -> None:
    """10,000 levels of nesting: 200, raw kept, an invalid-body fact, no recursion error."""
    client, deps = await make_service()
    body = b"[" * 10_000 + b"]" * 10_000
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    resp = await client.post("/webhook", data=body, headers=headers)
    assert resp.status == 200
    types = [e.type for e in await deps.store.read_all(0, 10)]
    assert types == ["whatsapp.webhook_received", "whatsapp.webhook_body_invalid"]


@pytest.mark.parametrize(
    "signature",
    ["sha256=", "sha256=zz", "sha1=abc", "SHA256=" + "0" * 64, "sha256=" + "0" * 64, "x" * 5000],
)
async def test_malformed_signatures_are_403_never_500(make_service: Make, signature: str) -> None:
    """Odd signature headers are refused cleanly."""
    client, deps = await make_service()
    resp = await client.post(
        "/webhook",
        data=body_for(),
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )
    assert resp.status == 403
    assert await deps.store.read_all(0, 10) == []


async def test_replayed_signed_body_is_acknowledged_once(make_service: Make) -> None:
    """An attacker replaying a captured signed body adds nothing (idempotent by content)."""
    client, deps = await make_service()
    body = body_for(wamid="wamid.REPLAY")
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    for _ in range(5):
        assert (await client.post("/webhook", data=body, headers=headers)).status == 200
    types = [e.type for e in await deps.store.read_all(0, 100)]
    assert types.count("whatsapp.webhook_received") == 1


@pytest.mark.parametrize(
    "path",
    ["/webhook/", "/%00", "/webhook?hub.mode=" + "a" * 4000, "/nope"],
)
async def test_path_oddities_get_4xx_json_not_tracebacks(make_service: Make, path: str) -> None:
    """Unknown or odd paths answer 4xx (or the handshake's 403) without a stack trace."""
    client, _ = await make_service()
    resp = await client.get(path)
    assert 400 <= resp.status < 500
    assert "Traceback" not in await resp.text()


async def test_huge_header_is_rejected_cleanly(make_service: Make) -> None:
    """A 20 KB header gets a 4xx from the HTTP parser, not a crash."""
    client, _ = await make_service()
    answer = await _raw(
        client, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    )
    assert answer.split(b" ")[1].startswith(b"4")


async def test_simulate_with_a_non_object_json_is_422(make_service: Make) -> None:
    """JSON that is not an object is refused with a message."""
    client, _ = await make_service()
    resp = await client.post(
        "/simulate", data=json.dumps([1, 2]), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 422
