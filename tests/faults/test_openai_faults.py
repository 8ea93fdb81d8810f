"""The OpenAI API is down or too slow: the customer still gets one answer, and staff see it.

The service runs with the OpenAI engine configured against the fake OpenAI server; the
:class:`~adapters.assistant.resilient.ResilientAssistant` covers each failure with the
offline twin's reading or the Italian fallback text, and every covered failure is on the
review queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.assistant.resilient import FALLBACK_TEXT
from adapters.fakes.openai_server import FakeOpenAI
from core import conversation_texts as texts_it
from events.conversation import AssistantFailed, MessageUnderstood
from tests.engine.support import accepted_by_id, covered, messages, replies, wait_until
from tests.faults.conftest import Wired, send_text

pytestmark = pytest.mark.e2e
Wire = Callable[..., Awaitable[Wired]]
SAYS = {
    "393401120001": "Buongiorno!",
    "393401120002": "Vorrei 2 crocchette per cane",
    "393401120003": "Quanto costa la lettiera?",
}


@pytest.fixture
async def openai_down() -> str:
    """The base URL of a fake OpenAI server that has stopped (connections refused)."""
    fake = FakeOpenAI()
    url = await fake.start()
    await fake.close()
    return url


@pytest.fixture
async def openai_slow() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI server answering after 3 s, far beyond the service's timeout."""
    fake = FakeOpenAI(latency=3.0)
    await fake.start()
    yield fake
    await fake.close()


async def _converse(wired: Wired) -> None:
    for phone, text in SAYS.items():
        assert (await send_text(wired.client, phone, text))[0] == 200

    async def answered() -> bool:
        sent = accepted_by_id(wired.graph)
        for phone in SAYS:
            history = await wired.history(phone)
            if set(messages(history)) - set(covered(history)) or not replies(history):
                return False
            if any(sent[oid] != 1 for oid in replies(history)):
                return False
        return True

    await wait_until(answered, 30)


async def _assert_covered(wired: Wired) -> None:
    """One answer per message, never twice; failures recorded and on the review queue."""
    sent = accepted_by_id(wired.graph)
    failed = 0
    for phone in SAYS:
        history = await wired.history(phone)
        assert all(sent[oid] == 1 for oid in replies(history)), "every reply sent exactly once"
        failures = [e.payload for e in history if isinstance(e.payload, AssistantFailed)]
        assert failures, f"{phone}: the assistant failure is recorded"
        failed += len(failures)
        readings = [e.payload for e in history if isinstance(e.payload, MessageUnderstood)]
        assert all(r.trace.engine == "fallback" for r in readings), "no reading came from OpenAI"
    await wait_until(lambda: wired.review_has("assistant_failed", failed), 10)


async def test_openai_down_falls_back_and_queues_the_failures(wire: Wire, openai_down: str) -> None:
    """Connections refused: offline reading or the fallback text goes out; staff see it."""
    wired = await wire(openai_api_key="sk-test", openai_base_url=openai_down, llm_max_retries=0)
    await _converse(wired)
    await _assert_covered(wired)
    texts = [str(body.get("text", {}).get("body", "")) for body in wired.graph.accepted]
    assert {FALLBACK_TEXT, texts_it.FALLBACK} & set(texts), "small talk got an Italian fallback"


async def test_openai_slower_than_the_timeout_falls_back(
    wire: Wire, openai_slow: FakeOpenAI
) -> None:
    """Answers beyond LLM_TIMEOUT: the same cover as an outage, no reply waits for OpenAI."""
    wired = await wire(
        openai_api_key="sk-test",
        openai_base_url=openai_slow.base_url,
        llm_timeout=0.5,
        llm_max_retries=0,
    )
    await _converse(wired)
    await _assert_covered(wired)
    assert openai_slow.requests_to("chat"), "OpenAI was asked first"
