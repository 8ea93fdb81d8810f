"""The checkout on the OpenAI path through ``/simulate``, with the local fake OpenAI server.

The model reads delivery words our rules cannot; our code checks them and computes every
time, fee and total; the reading is recorded, so replay never asks the model again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.fakes import openai_server as fake_api
from events.checkout import CheckoutCompleted
from events.conversation import MessageUnderstood
from tests.journeys.conftest import CUSTOMER, Journey, body
from tests.support.openai import reading

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def test_the_service_checks_out_with_the_models_delivery_words(
    journey_factory: Start, fake_openai: fake_api.FakeOpenAI
) -> None:
    """Words our rules cannot read, read by the model: checked, priced by us, recorded."""
    lettiera = [{"product_id": "p-lettiera", "quantity": 1, "text": "una lettiera"}]
    delivery = {"address": "via Solferino 3, Milano", "when": "lunedì alle 10", "payment": "carta"}
    fake_openai.enqueue(
        fake_api.json_reply(reading(cart=lettiera)),
        fake_api.json_reply(reading()),
        fake_api.json_reply(reading(delivery=delivery)),
        fake_api.json_reply(reading(intent="support_request", topic="order_status")),
    )
    j = await journey_factory(openai_api_key="sk-test", openai_base_url=fake_openai.base_url)
    await j.say(CUSTOMER, "mi serve quella cosa per il gatto")
    await j.say(CUSTOMER, "Confermo", wait=0)
    await j.next_to(CUSTOMER, 1, contains="indirizzo di consegna")
    await j.say(CUSTOMER, "come ti ho scritto ieri, grazie", wait=0)
    recap = await j.next_to(CUSTOMER, 2, contains="Totale con consegna")
    assert "€ 12,80" in body(recap)
    assert "via Solferino 3, Milano" in body(recap)
    await j.next_to(CUSTOMER, 3, contains="inviato al negozio")
    status = await j.say(CUSTOMER, "e allora?")
    assert any("n. 1" in body(r) for r in status)
    stream = await j.stream(f"conversation-{CUSTOMER}")
    [done] = [p for p in stream if isinstance(p, CheckoutCompleted)]
    assert (done.payment, str(done.total)) == ("carta", "12.80")
    read = [p for p in stream if isinstance(p, MessageUnderstood) and p.delivery is not None]
    assert read[0].delivery is not None
    assert read[0].delivery.address == "via Solferino 3, Milano"
