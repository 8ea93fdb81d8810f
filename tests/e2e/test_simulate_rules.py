"""``POST /simulate`` input rules: a bad ``wait``, ``from`` or over-long text is a 422 naming
the field, nothing is ingested, and the OpenAPI document states the same limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.bootstrap import Deps
from adapters.web.api.openapi import DOCUMENT
from adapters.web.simulate import text_delivery
from adapters.web.simulate_rules import MAX_TEXT_CHARS, MAX_WAIT_SECONDS
from tests.e2e.conftest import Client

pytestmark = pytest.mark.e2e
Make = Callable[..., Awaitable[tuple[Client, Deps]]]
PHONE = "+393281234567"


async def _refused(client: Client, deps: Deps, path: str, body: object, field: str) -> None:
    """POST ``body``; expect 422 naming ``field`` and an untouched log."""
    before = await deps.store.last_position()
    resp = await client.post(path, json=body)
    assert resp.status == 422, await resp.text()
    answer = await resp.json()
    assert answer["field"] == field
    assert field.rsplit(".", maxsplit=1)[-1] in answer["error"]
    assert await deps.store.last_position() == before


@pytest.mark.parametrize("wait", ["abc", "-1", "31", "nan", "inf", "1e9", ""])
async def test_a_bad_wait_is_422_naming_wait(make_service: Make, wait: str) -> None:
    """Non-numeric, negative, non-finite or over-30 waits are refused before ingesting."""
    client, deps = await make_service(debounce_seconds=0.0)
    await _refused(client, deps, f"/simulate?wait={wait}", {"from": PHONE, "text": "Ciao"}, "wait")


async def test_a_text_over_4096_characters_is_422_naming_text(make_service: Make) -> None:
    """One character over WhatsApp's limit is refused; nothing recorded."""
    client, deps = await make_service(debounce_seconds=0.0)
    body = {"from": PHONE, "text": "a" * (MAX_TEXT_CHARS + 1)}
    await _refused(client, deps, "/simulate", body, "text")


async def test_a_text_of_exactly_4096_characters_is_recorded(make_service: Make) -> None:
    """The limit itself is allowed: the message is recorded (200)."""
    client, deps = await make_service(debounce_seconds=0.0)
    resp = await client.post("/simulate", json={"from": PHONE, "text": "b" * MAX_TEXT_CHARS})
    assert resp.status == 200, await resp.text()
    assert await deps.store.last_position() > 0


async def test_an_over_long_text_inside_a_meta_body_is_422(make_service: Make) -> None:
    """The full-body form obeys the same limit and names the JSON path."""
    client, deps = await make_service(debounce_seconds=0.0)
    body = text_delivery(PHONE.lstrip("+"), "c" * (MAX_TEXT_CHARS + 1))
    field = "entry[0].changes[0].value.messages[0].text.body"
    await _refused(client, deps, "/simulate", body, field)


async def test_a_from_that_is_no_phone_is_422_naming_from(make_service: Make) -> None:
    """A sender that is not a phone number is refused with the field named."""
    client, deps = await make_service(debounce_seconds=0.0)
    await _refused(client, deps, "/simulate", {"from": "nobody", "text": "Ciao"}, "from")


async def test_a_valid_wait_still_returns_the_replies(make_service: Make) -> None:
    """``wait=5`` within the limits answers with the bot's replies."""
    client, _ = await make_service(debounce_seconds=0.0)
    resp = await client.post("/simulate?wait=5", json={"from": PHONE, "text": "Buongiorno"})
    assert resp.status == 200
    assert (await resp.json())["replies"]


def test_the_openapi_document_states_the_same_limits() -> None:
    """The /simulate operation documents wait 0..30 and text up to 4,096 characters."""
    op = DOCUMENT["paths"]["/simulate"]["post"]
    wait = next(p for p in op["parameters"] if p["name"] == "wait")
    assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (0, MAX_WAIT_SECONDS)
    text = DOCUMENT["components"]["schemas"]["SimulateText"]["properties"]["text"]
    assert text["maxLength"] == MAX_TEXT_CHARS == 4096
    assert "422" in op["responses"]
