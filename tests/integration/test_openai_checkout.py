"""The OpenAI reading of checkout words and business topics, against the local fake OpenAI.

The model's reading carries a ``topic`` and the delivery ``address`` / ``when`` /
``payment`` in words; our code checks them (zones, hours, length) and computes every
time, fee and total.
"""

from __future__ import annotations

from adapters.assistant.openai_assistant import OpenAIAssistant
from adapters.fakes import openai_server as fake_api
from core.catalog import Catalog
from core.understanding import DeliveryHints, Topic
from tests.conftest import OpenAIClients
from tests.support.openai import reading


async def test_the_reading_carries_topic_and_delivery_words(
    fake_openai: fake_api.FakeOpenAI, openai_clients: OpenAIClients, catalog: Catalog
) -> None:
    """``topic`` and ``delivery`` reach the understanding; empty words read as not said."""
    delivery = {
        "address": " via Solferino 3, Milano ",
        "when": "domani alle 10",
        "payment": "carta",
    }
    fake_openai.enqueue(
        fake_api.json_reply(reading(delivery=delivery)),
        fake_api.json_reply(reading(intent="support_request", topic="order_status")),
    )
    assistant = OpenAIAssistant(openai_clients(max_retries=0))
    first = (await assistant.understand("come detto", history=(), catalog=catalog)).understanding
    assert first.delivery == DeliveryHints(
        address="via Solferino 3, Milano", when="domani alle 10", payment="carta"
    )
    assert first.topic is None
    second = (await assistant.understand("e allora?", history=(), catalog=catalog)).understanding
    assert (second.topic, second.delivery) == (Topic.ORDER_STATUS, None)
