"""The OpenAI reading of checkout words and business topics, against the local fake OpenAI.

The model's reading carries a ``topic`` and the delivery ``address`` / ``when`` /
``payment`` in words; our code checks them (zones, hours, length) and computes every
time, fee and total.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.assistant.openai_assistant import OpenAIAssistant, build_openai_client
from adapters.fakes import openai_server as fake_api
from core.catalog import Catalog, parse_catalog
from core.understanding import DeliveryHints, Topic

DEMO = Path(__file__).parents[2] / "adapters" / "data" / "catalog_demo.json"


@pytest.fixture
async def fake() -> AsyncIterator[fake_api.FakeOpenAI]:
    """A running fake OpenAI server."""
    server = fake_api.FakeOpenAI()
    await server.start()
    yield server
    await server.close()


def reading(**overrides: Any) -> dict[str, Any]:
    """A structured answer as the model writes it (every field present)."""
    base: dict[str, Any] = {
        "intent": "order_request",
        "confidence": 0.9,
        "cart": [],
        "unresolved": [],
        "products": [],
        "topic": "none",
        "delivery": {"address": "", "when": "", "payment": "none"},
    }
    return base | overrides


async def test_the_reading_carries_topic_and_delivery_words(fake: fake_api.FakeOpenAI) -> None:
    """``topic`` and ``delivery`` reach the understanding; empty words read as not said."""
    catalog: Catalog = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))
    delivery = {
        "address": " via Solferino 3, Milano ",
        "when": "domani alle 10",
        "payment": "carta",
    }
    fake.enqueue(
        fake_api.json_reply(reading(delivery=delivery)),
        fake_api.json_reply(reading(intent="support_request", topic="order_status")),
    )
    client = build_openai_client(api_key="sk-test", base_url=fake.base_url, max_retries=0)
    assistant = OpenAIAssistant(client)
    first = (await assistant.understand("come detto", history=(), catalog=catalog)).understanding
    assert first.delivery == DeliveryHints(
        address="via Solferino 3, Milano", when="domani alle 10", payment="carta"
    )
    assert first.topic is None
    second = (await assistant.understand("e allora?", history=(), catalog=catalog)).understanding
    assert (second.topic, second.delivery) == (Topic.ORDER_STATUS, None)
    await client.close()
