"""The OpenAI path edits the cart the same way: scripted structured answers from the fake server.

The model returns cart operations and a short answer in its structured reading; our code
records them (``CartEditUnderstood``), checks the ids, applies them and computes every
total, so no price ever comes from the model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.bootstrap import build
from adapters.fakes.openai_server import FakeOpenAI, json_reply
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.app import create_app
from events.cart import CartEditUnderstood, CartOp, CartRevised
from events.conversation import CartConfirmed, CartProposed
from tests.e2e import conftest as e2e
from tests.journeys.test_cart_edits import CUSTOMER, Shop

pytestmark = pytest.mark.e2e
Client = TestClient[web.Request, web.Application]


def reading(intent: str = "order_request", **extra: Any) -> dict[str, Any]:
    """A structured reading as the model returns it."""
    base: dict[str, Any] = {
        "intent": intent, "confidence": 0.95, "cart": [], "unresolved": [], "products": [],
        "cart_operations": [], "cart_reply": "none",
    }  # fmt: skip
    return {**base, **extra}


def op(kind: str, pid: str = "", qty: int = 0, new: str = "") -> dict[str, Any]:
    """One operation in the model's JSON."""
    return {"op": kind, "product_id": pid, "quantity": qty, "replacement_id": new}


@pytest.fixture
async def llm_shop(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[tuple[Shop, FakeOpenAI]]:
    """The service asking a fake OpenAI server (no SDK retries), on SQLite."""
    fake = FakeOpenAI()
    await fake.start()
    settings = e2e.test_settings(
        tmp_path, debounce_seconds=0.0, openai_api_key="sk-test",
        openai_base_url=fake.base_url, llm_max_retries=0,
    )  # fmt: skip
    engines = create_engines(settings.database_url)
    await migrate(engines)
    deps = build(settings, engines=engines)
    client = await aiohttp_client(create_app(deps))
    try:
        yield Shop(client, deps), fake
    finally:
        await client.close()
        await fake.close()


async def test_the_models_operations_edit_the_cart_and_its_yes_confirms(
    llm_shop: tuple[Shop, FakeOpenAI],
) -> None:
    """Order, replace + add from the model, its «confirm»: totals are ours, the edit recorded."""
    shop, fake = llm_shop
    fake.enqueue(
        json_reply(reading(cart=[
            {"product_id": "p-latte", "quantity": 2, "text": "latte"},
            {"product_id": "p-pane", "quantity": 1, "text": "pane"},
        ])),
        json_reply(reading(cart_operations=[
            op("replace", "p-latte", 0, "p-parmigiano"), op("add", "p-uova", 1),
            op("add", "p-non-esiste", 3),
        ])),
        json_reply(reading(cart_reply="confirm")),
    )  # fmt: skip
    first = await shop.turn(CUSTOMER, "mi porti del latte e un pane?", contains="Totale")
    assert "€ 6,18" in first
    edited = await shop.turn(
        CUSTOMER, "niente latte, meglio il parmigiano, e le uova", contains="Totale"
    )
    assert "€ 16,10" in edited  # 2 × 5,60 + 2,60 + 2,30: computed here
    assert "p-non-esiste" in edited  # the unknown id is told, not trusted
    await shop.turn(CUSTOMER, "perfetto così", contains="confermato")
    [revised] = await shop.events(CartRevised)
    assert [(o.op, o.product_id, o.replacement_id) for o in revised.operations] == [
        (CartOp.REPLACE, "p-latte", "p-parmigiano"), (CartOp.ADD, "p-uova", None),
    ]  # fmt: skip
    edits = await shop.events(CartEditUnderstood)
    assert [e.cart_reply for e in edits] == [None, "confirm"]
    [confirmed] = await shop.events(CartConfirmed)
    assert confirmed.cart_id == (await shop.events(CartProposed))[-1].cart_id
    understand = fake.requests_to("chat")[0].body
    schema = understand["response_format"]["json_schema"]["schema"]
    assert {"cart_operations", "cart_reply"} <= set(schema["required"])
