"""Model chains and the model check through the real SDK over HTTP against the fake OpenAI."""

from __future__ import annotations

import pytest
from openai import AsyncOpenAI

from adapters.assistant.budget import RequestBudget
from adapters.assistant.model_check import ModelCheckError, check_models
from adapters.assistant.models import ModelChain
from adapters.assistant.openai_assistant import OpenAIAssistant, build_openai_client
from adapters.fakes import openai_server as fake_api
from core.catalog import Catalog
from core.ports import AssistantError
from tests.conftest import OpenAIClients


@pytest.fixture
def client(openai_clients: OpenAIClients) -> AsyncOpenAI:
    """An SDK client on the fake, without SDK retries (errors show at once)."""
    return openai_clients(max_retries=0)


def chat_models(fake_openai: fake_api.FakeOpenAI) -> list[str]:
    """The model named by each chat request, in order."""
    return [str(r.body["model"]) for r in fake_openai.requests_to("chat")]


async def test_a_retired_primary_falls_through_and_the_trace_names_the_answerer(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI, catalog: Catalog
) -> None:
    """404 model_not_found on the first model: the second answers and is in the trace."""
    fake_openai.retire("gpt-4o-mini")
    fell: list[str] = []

    async def note(model: str, error: str) -> None:
        fell.append(f"{model}: {error}")

    chain = ModelChain.parse("gpt-4o-mini,gpt-6-luna")
    chain.on_fallthrough = note
    assistant = OpenAIAssistant(client, model=chain)
    understood = await assistant.understand("Ciao", history=[], catalog=catalog)
    assert understood.trace.model == "gpt-6-luna"
    assert chat_models(fake_openai) == ["gpt-4o-mini", "gpt-6-luna"]
    assert len(fell) == 1
    assert fell[0].startswith("gpt-4o-mini: HTTP 404 model_not_found")


async def test_after_a_fall_through_the_retired_model_is_not_asked_again(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI, catalog: Catalog
) -> None:
    """The chain remembers the 404: the next turn goes straight to the fallback."""
    assistant = OpenAIAssistant(client, model="gpt-4o-mini,gpt-6-luna")
    await assistant.understand("Ciao", history=[], catalog=catalog)
    fake_openai.retire("gpt-4o-mini")  # switched off mid-run
    await assistant.understand("Ciao", history=[], catalog=catalog)
    await assistant.understand("Ciao", history=[], catalog=catalog)
    assert chat_models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-6-luna", "gpt-6-luna"]
    assert assistant.models.current() == "gpt-6-luna"


async def test_when_every_model_is_gone_the_assistant_fails(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI, catalog: Catalog
) -> None:
    """Both models answer 404: an AssistantError (the resilient wrapper covers it)."""
    fake_openai.retire("a")
    fake_openai.retire("b")
    assistant = OpenAIAssistant(client, model="a,b")
    with pytest.raises(AssistantError, match="HTTP 404"):
        await assistant.understand("Ciao", history=[], catalog=catalog)
    assert chat_models(fake_openai) == ["a", "b"]


async def test_other_errors_do_not_move_down_the_chain(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI, catalog: Catalog
) -> None:
    """A 500 is not "model not found": no fall-through, the error is the caller's."""
    fake_openai.enqueue(fake_api.http_error(500))
    assistant = OpenAIAssistant(client, model="gpt-6-luna,gpt-6.1-terra")
    with pytest.raises(AssistantError, match="HTTP 500"):
        await assistant.understand("Ciao", history=[], catalog=catalog)
    assert chat_models(fake_openai) == ["gpt-6-luna"]


async def test_a_model_past_its_known_shutdown_date_is_not_tried(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI, catalog: Catalog
) -> None:
    """Once the check has taught the chain a past date, the model is skipped unasked."""
    fake_openai.models["gpt-4.1-mini"] = "2026-11-30"
    chain = ModelChain.parse("gpt-4.1-mini,gpt-6-luna")
    chain.learn((await check_models(client, chain.models)).facts)
    reply = await OpenAIAssistant(client, model=chain).understand("x", history=[], catalog=catalog)
    assert reply.trace.model == "gpt-6-luna"
    assert chat_models(fake_openai) == ["gpt-6-luna"]


async def test_the_check_reads_dates_unknown_names_and_malformed_dates(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI
) -> None:
    """Listed with a date, listed without, unlisted, and a malformed date kept as a note."""
    fake_openai.models["odd-model"] = "14/01/2027"
    found = await check_models(client, ["gpt-4o-mini", "gpt-6-luna", "no-such", "odd-model"])
    assert found.method == "list"
    facts = found.facts
    assert str(facts["gpt-4o-mini"].shutdown) == "2027-01-14"
    assert facts["gpt-6-luna"].listed
    assert facts["gpt-6-luna"].shutdown is None
    assert not facts["no-such"].listed
    odd = facts["odd-model"]
    assert (odd.listed, odd.shutdown) == (True, None)
    assert odd.note == "malformed shutdown_date '14/01/2027'"


async def test_a_server_without_the_listing_is_probed_with_one_token(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI
) -> None:
    """No /v1/models (404): one max-1-token chat request per model; 404 means unknown."""
    fake_openai.models_endpoint = False
    fake_openai.retire("gone")
    found = await check_models(client, ["llama3", "gone"])
    assert found.method == "probe"
    assert found.facts["llama3"].listed
    assert found.facts["llama3"].shutdown is None
    assert not found.facts["gone"].listed
    bodies = [r.body for r in fake_openai.requests_to("chat")]
    assert [(b["model"], b["max_completion_tokens"]) for b in bodies] == [
        ("llama3", 1),
        ("gone", 1),
    ]


async def test_the_check_draws_from_the_request_budget(
    fake_openai: fake_api.FakeOpenAI, client: AsyncOpenAI
) -> None:
    """The listing is one request of the shared per-minute budget."""
    budget = RequestBudget(per_minute=10)
    await check_models(client, ["gpt-6-luna"], budget=budget)
    assert budget.stats().granted == 1
    assert [r.path for r in fake_openai.requests] == ["/v1/models"]


async def test_a_server_that_cannot_be_asked_is_a_check_error(
    fake_openai: fake_api.FakeOpenAI,
) -> None:
    """Connection refused: ModelCheckError, nothing learnt."""
    url = fake_openai.base_url
    await fake_openai.close()
    down = build_openai_client(api_key="sk-test", base_url=url, timeout=1.0, max_retries=0)
    try:
        with pytest.raises(ModelCheckError, match="APIConnectionError"):
            await check_models(down, ["gpt-6-luna"])
    finally:
        await down.close()
