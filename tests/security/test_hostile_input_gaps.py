"""Hostile input the e2e suite does not already cover (tests/e2e/test_hostile_input.py,
tests/e2e/test_webhook_http.py, tests/dashboard/test_headers.py): header oddities,
invalid UTF-8, control characters, more path tricks, wrong content types on the API.
None may yield a 5xx or a traceback; where the answer is ours to choose, it is exact.
"""

from __future__ import annotations

import asyncio

import pytest

from adapters.meta.signature import sign
from tests.api.conftest import CUSTOMER, Api, cid
from tests.e2e.conftest import SECRET
from tests.e2e.test_webhook_http import body_for

pytestmark = pytest.mark.e2e


async def _raw(api: Api, request: bytes) -> bytes:
    """Raw bytes to the server; the status line and headers of the answer."""
    assert api.client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", api.client.server.port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    return answer


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def _events(api: Api) -> int:
    return len(await api.deps.store.read_all(0, 10_000))


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static/%252e%252e%252fapp.js",
        "/static/..%5capp.js",
        "/static/app.js%00.png",
        "/static/APP.JS",
        "/static/app.js/",
    ],
)
async def test_static_path_tricks_are_404(api: Api, path: str) -> None:
    """Encoded, double-encoded, backslash and NUL traversal attempts find nothing."""
    answer = await _raw(api, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert _status(answer) == 404


async def test_signed_invalid_utf8_body_is_kept_as_an_invalid_fact(api: Api) -> None:
    """Signed bytes that are not UTF-8: 200, raw kept, an invalid-body fact, no crash."""
    body = b'{"object": "whatsapp_business_account", "x": "\xff\xfe"}'
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    resp = await api.client.post("/webhook", data=body, headers=headers)
    assert resp.status == 200
    types = [e.type for e in await api.deps.store.read_all(0, 10)]
    assert types == ["whatsapp.webhook_received", "whatsapp.webhook_body_invalid"]


async def test_two_signature_headers_are_refused(api: Api) -> None:
    """A valid and a forged signature together never pass as the valid one alone."""
    body = body_for(wamid="wamid.TWOSIGS")
    head = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + b"X-Hub-Signature-256: sha256="
        + b"0" * 64
        + b"\r\n"
        + f"X-Hub-Signature-256: {sign(body, SECRET)}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    answer = await _raw(api, head + body)
    assert 400 <= _status(answer) < 500
    assert await _events(api) == 0


async def test_json_content_type_with_charset_is_accepted(api: Api) -> None:
    """``application/json; charset=utf-8`` is JSON: recorded."""
    body = body_for(wamid="wamid.CHARSET")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Hub-Signature-256": sign(body, SECRET),
    }
    assert (await api.client.post("/webhook", data=body, headers=headers)).status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer " + "a" * 5_000,
        "Bearer \u00e9\u00e8\u00ea",
        "Bearer",
        "Bearer  ",
        "bearer dlp_nope",
        "Bearer dlp_a dlp_b",
    ],
)
async def test_odd_authorization_headers_are_401(api: Api, authorization: str) -> None:
    """Huge, non-ASCII, empty or doubled bearer values: 401, never 5xx."""
    resp = await api.client.get("/api/dealers", headers={"Authorization": authorization})
    assert resp.status == 401


async def test_huge_authorization_header_is_a_clean_4xx(api: Api) -> None:
    """Beyond the HTTP parser's line limit: its 400, not a crash."""
    resp = await api.client.get("/api/dealers", headers={"Authorization": "Bearer " + "a" * 9000})
    assert resp.status == 400


@pytest.mark.parametrize("path", ["/api/dealers", "/"])
async def test_garbage_cookie_is_unauthenticated_not_an_error(api: Api, path: str) -> None:
    """A malformed Cookie header is ignored: 401 on the API, 303 to login on the page."""
    cookie = b"Cookie: dloop_session=\x7f\x01; ;;=; dloop_csrf\r\n"
    answer = await _raw(api, f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + cookie + b"\r\n")
    assert _status(answer) in {303, 400, 401}


@pytest.mark.parametrize(
    "target",
    [
        "/api/conversations/%00",
        "/api/conversations?assignee=a%00b",
        "/api/conversations?q=%01%02",
        "/api/orders?dealer=%1b",
    ],
)
async def test_control_characters_in_api_parameters_are_422(api: Api, target: str) -> None:
    """NUL and friends are refused before any query (PostgreSQL would fail on NUL)."""
    resp = await api.get(target)
    assert resp.status == 422
    assert (await resp.json())["status"] == 422


@pytest.mark.parametrize(
    "target",
    ["/api/conversations?assignee=%FF%FE", "/api/conversations/%C3%28", "/api/catalog?dealer=%80"],
)
async def test_invalid_utf8_in_api_urls_is_never_5xx(api: Api, target: str) -> None:
    """Percent-encoded bytes that are not UTF-8 decode leniently: an answer, never a 5xx."""
    resp = await api.get(target)
    assert resp.status in {200, 403, 404, 422}
    assert "Traceback" not in await resp.text()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"text=ciao", "application/x-www-form-urlencoded"),
        (b"ciao", "text/plain"),
        (b'{"text": "\xff"}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    ],
)
async def test_agent_reply_with_a_bad_body_is_4xx(
    talked: Api, data: bytes, content_type: str
) -> None:
    """Forms, plain text, invalid UTF-8, non-objects and deep nesting: 4xx, nothing queued."""
    before = await _events(talked)
    resp = await talked.post(
        f"/api/conversations/{cid(CUSTOMER)}/reply",
        data=data,
        headers={"Content-Type": content_type},
    )
    assert 400 <= resp.status < 500, await resp.text()
    assert "Traceback" not in await resp.text()
    assert await _events(talked) == before


async def test_simulate_with_deeply_nested_json_is_400(api: Api) -> None:
    """10,000 levels of nesting on /simulate: refused as not JSON, not a recursion crash."""
    body = b"[" * 10_000 + b"]" * 10_000
    resp = await api.client.post(
        "/simulate", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert await _events(api) == 0
