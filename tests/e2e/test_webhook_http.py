"""The webhook's HTTP contract: handshake, signature, limits, durability, duplicates."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text

from adapters.bootstrap import Deps
from adapters.meta.signature import sign
from adapters.web.simulate import text_delivery
from tests.conftest import person_stream
from tests.e2e.conftest import SECRET, VERIFY, Client

pytestmark = pytest.mark.e2e
Service = tuple[Client, Deps]


def body_for(
    text: str = "Ciao! Vorrei una pizza 🍕 perché è tardi", wamid: str = "wamid.T1"
) -> bytes:
    """A Meta text delivery serialised with raw UTF-8 (not \\u escapes)."""
    doc = text_delivery("393281234567", text)
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = wamid
    return json.dumps(doc, ensure_ascii=False).encode()


async def post(
    client: Client, body: bytes, signature: str | None = "auto", ctype: str = "application/json"
) -> tuple[int, dict[str, object]]:
    """POST a body, signed correctly unless told otherwise."""
    headers = {"Content-Type": ctype}
    if signature == "auto":
        headers["X-Hub-Signature-256"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    resp = await client.post("/webhook", data=body, headers=headers)
    return resp.status, await resp.json()


async def count_events(deps: Deps) -> int:
    """How many events the log holds."""
    return len(await deps.store.read_all(0, 100_000))


async def test_handshake_echoes_non_numeric_challenge_byte_for_byte(service: Service) -> None:
    """The right token gets the challenge back as text/plain."""
    client, _ = service
    resp = await client.get(
        "/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "abc-ß_123"},
    )
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    assert await resp.text() == "abc-ß_123"


@pytest.mark.parametrize(
    ("mode", "token"), [("subscribe", "wrong"), ("unsubscribe", VERIFY), (None, None)]
)
async def test_handshake_refuses_wrong_mode_or_token(
    service: Service, mode: str | None, token: str | None
) -> None:
    """Anything but subscribe + the configured token is 403."""
    client, _ = service
    params = {
        k: v
        for k, v in {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1"}.items()
        if v
    }
    resp = await client.get("/webhook", params=params)
    assert resp.status == 403


async def test_signed_delivery_is_recorded_verbatim_before_200(service: Service) -> None:
    """A 200 means the raw bytes and the parsed message are already in the log."""
    client, deps = service
    body = body_for()
    status, answer = await post(client, body)
    assert status == 200
    assert answer["facts"] == 1
    events = await deps.store.read_all(0, 100)
    assert [e.type for e in events] == ["whatsapp.webhook_received", "whatsapp.message_received"]
    assert events[0].payload.body.encode() == body
    assert events[1].payload.text == "Ciao! Vorrei una pizza 🍕 perché è tardi"
    assert events[1].stream == person_stream("+393281234567")
    assert "3281234567" not in events[1].stream


async def test_missing_signature_is_401_and_records_nothing(service: Service) -> None:
    """No header: 401, nothing stored."""
    client, deps = service
    status, answer = await post(client, body_for(), signature=None)
    assert status == 401
    assert "missing" in str(answer["error"])
    assert await count_events(deps) == 0


async def test_wrong_signature_is_403_and_records_nothing(service: Service) -> None:
    """A signature of other bytes: 403, nothing stored."""
    client, deps = service
    status, _ = await post(client, body_for(), signature=sign(b"other", SECRET))
    assert status == 403
    assert await count_events(deps) == 0


async def test_reserialised_body_fails_the_signature(service: Service) -> None:
    """Signing the parsed-and-dumped JSON is not the same bytes: 403."""
    client, deps = service
    body = body_for()
    reserialised = json.dumps(json.loads(body)).encode()  # ASCII escapes change the bytes
    assert reserialised != body
    status, _ = await post(client, reserialised, signature=sign(body, SECRET))
    assert status == 403
    assert await count_events(deps) == 0


async def test_no_secret_configured_fails_closed_with_503(
    make_service: Callable[..., Awaitable[Service]],
) -> None:
    """Without WHATSAPP_APP_SECRET every POST is refused and says why."""
    client, deps = await make_service(whatsapp_app_secret=None)
    status, answer = await post(client, body_for())
    assert status == 503
    assert "WHATSAPP_APP_SECRET" in str(answer["error"])
    assert await count_events(deps) == 0


async def test_oversized_body_is_413(service: Service) -> None:
    """A 5 MiB body is refused before it is read."""
    client, deps = service
    status, _ = await post(client, b"{" + b" " * (5 * 1024 * 1024) + b"}")
    assert status == 413
    assert await count_events(deps) == 0


async def test_wrong_content_type_is_415_and_records_nothing(service: Service) -> None:
    """A signed body that is not declared JSON is refused with 415."""
    client, deps = service
    status, _ = await post(client, body_for(), ctype="text/plain")
    assert status == 415
    assert await count_events(deps) == 0


@pytest.mark.parametrize(
    "body", [b"", b'{"object": "whatsapp_business_account", "entry": [', b"[1, 2]"]
)
async def test_signed_garbage_is_recorded_raw_and_acknowledged(
    service: Service, body: bytes
) -> None:
    """Empty, truncated or wrong-shaped signed bodies are kept with a fact saying so."""
    client, deps = service
    status, _ = await post(client, body)
    assert status == 200
    types = [e.type for e in await deps.store.read_all(0, 100)]
    assert types == ["whatsapp.webhook_received", "whatsapp.webhook_body_invalid"]


async def test_redelivery_adds_nothing_and_still_answers_200(service: Service) -> None:
    """The same body twice, or the same wamid in another body, stores one message."""
    client, deps = service
    first = body_for(wamid="wamid.DUP")
    assert (await post(client, first))[0] == 200
    status, answer = await post(client, first)
    assert status == 200
    assert answer["duplicate"] is True
    other_body = body_for(text="stesso wamid, altro corpo", wamid="wamid.DUP")
    assert (await post(client, other_body))[0] == 200
    types = [e.type for e in await deps.store.read_all(0, 100)]
    assert types.count("whatsapp.message_received") == 1
    assert types.count("whatsapp.webhook_received") == 2


async def test_recorded_answer_is_byte_for_byte_what_json_dumps_gives(service: Service) -> None:
    """The 200's body and content type are those of ``web.json_response``, first and again."""
    client, deps = service
    body = body_for(wamid="wamid.BYTES")
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    for duplicate in (False, True):
        resp = await client.post("/webhook", data=body, headers=headers)
        delivery_id = (await deps.store.read_all(0, 1))[0].event_id
        expected = {
            "status": "recorded",
            "delivery_id": str(delivery_id),
            "facts": 1,
            "duplicate": duplicate,
        }
        assert resp.status == 200
        assert await resp.read() == json.dumps(expected).encode()
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_request_ids_are_unique_32_hex_digits_unless_the_client_names_one(
    service: Service,
) -> None:
    """Each answer carries its own X-Request-Id; a client's own id is echoed back."""
    client, _ = service
    ids = [(await client.get("/healthz")).headers["X-Request-Id"] for _ in range(3)]
    ids.append((await client.post("/webhook", data=b"{}")).headers["X-Request-Id"])
    assert len(set(ids)) == 4
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"


async def test_store_down_answers_503_so_meta_redelivers(
    service: Service, tmp_path: object
) -> None:
    """When the database is unusable, nothing is acknowledged."""
    client, deps = service
    async with deps.engines.writer.begin() as conn:
        await conn.execute(text("DROP TABLE events"))
    status, answer = await post(client, body_for())
    assert status == 503
    assert "unavailable" in str(answer["error"])


async def test_simulate_runs_the_same_ingestion_path(service: Service) -> None:
    """/simulate signs a text and records it like a webhook."""
    client, deps = service
    resp = await client.post("/simulate", json={"from": "328 123 4567", "text": "Buongiorno"})
    assert resp.status == 200
    events = await deps.store.read_all(0, 100)
    assert events[-1].payload.text == "Buongiorno"
    assert events[-1].stream == person_stream("+393281234567")


async def test_simulate_rejects_bad_input_with_422(service: Service) -> None:
    """A body that is neither a message nor a Meta body is 422."""
    client, _ = service
    resp = await client.post("/simulate", json={"from": "not a phone", "text": "x"})
    assert resp.status == 422


async def test_simulate_writes_with_the_profile_name_given(service: Service) -> None:
    """``name`` becomes the WhatsApp profile name of the simulated message."""
    client, deps = service
    body = {"from": "+393281234567", "text": "Ciao", "name": " Giulia Rossi "}
    assert (await client.post("/simulate", json=body)).status == 200
    events = await deps.store.read_all(0, 100)
    assert events[-1].payload.profile_name == "Giulia Rossi"


@pytest.mark.parametrize("name", ["", "   ", 7, None, "x" * 101])
async def test_simulate_refuses_a_bad_profile_name(service: Service, name: object) -> None:
    """An empty, blank, non-text or over-long name is 422 and nothing is recorded."""
    client, deps = service
    before = len(await deps.store.read_all(0, 1000))
    body = {"from": "+393281234567", "text": "Ciao", "name": name}
    resp = await client.post("/simulate", json=body)
    assert resp.status == 422
    assert "name" in (await resp.json())["error"]
    assert len(await deps.store.read_all(0, 1000)) == before
