"""The model watcher on a real store (SQLite, PostgreSQL) against the fake OpenAI over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from openai import AsyncOpenAI

from adapters.assistant.model_watch import ModelWatcher
from adapters.assistant.models import ModelChain
from adapters.fakes import openai_server as fake_api
from adapters.metrics import ServiceMetrics
from adapters.store.event_store import EventStore
from events.models import MODELS_STREAM, ModelAlerted, ModelFellThrough, ModelsChecked
from events.notify import PushRequested
from tests.conftest import OpenAIClients


class Calendar:
    """A settable 'today' for the watcher."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def client(openai_clients: OpenAIClients) -> AsyncOpenAI:
    """An SDK client on the fake, without SDK retries."""
    return openai_clients(max_retries=0)


def watcher(
    store: EventStore, client: AsyncOpenAI, chain: str, calendar: Calendar
) -> tuple[ModelWatcher, ModelChain, ServiceMetrics]:
    """A watcher of one chain, with metrics and the given calendar."""
    models = ModelChain.parse(chain, today=calendar)
    metrics = ServiceMetrics()
    return ModelWatcher(store, client, [models], metrics=metrics, today=calendar), models, metrics


async def payloads(store: EventStore, kind: type[Any]) -> list[Any]:
    """The payloads of one type in the models stream."""
    return [
        e.payload for e in await store.read_stream(MODELS_STREAM) if isinstance(e.payload, kind)
    ]


async def test_a_check_records_what_the_server_said_and_teaches_the_chain(
    store: EventStore, client: AsyncOpenAI
) -> None:
    """One ModelsChecked with each model's date and verdict; the chain and gauges learn it."""
    w, chain, metrics = watcher(
        store, client, "gpt-4o-mini,gpt-6-luna", Calendar(date(2026, 12, 5))
    )
    await w.check()
    [checked] = await payloads(store, ModelsChecked)
    rows = [(s.model, s.shutdown_date, s.days_left, s.verdict) for s in checked.models]
    assert rows == [
        ("gpt-4o-mini", "2027-01-14", 40, "ok"),
        ("gpt-6-luna", None, None, "ok"),
    ]
    assert chain.facts["gpt-4o-mini"].shutdown == date(2027, 1, 14)
    sample = metrics.registry.get_sample_value
    assert sample("dloop_model_shutdown_days", {"model": "gpt-4o-mini"}) == 40
    assert sample("dloop_model_shutdown_days", {"model": "gpt-6-luna"}) is None
    assert sample("dloop_model_available", {"model": "gpt-6-luna"}) == 1
    assert await payloads(store, ModelAlerted) == []


async def test_a_model_within_thirty_days_alerts_once_per_day(
    store: EventStore, client: AsyncOpenAI
) -> None:
    """Two checks on one day: one alert and one push; the next day: one more of each."""
    calendar = Calendar(date(2026, 12, 20))
    w, _, _ = watcher(store, client, "gpt-4o-mini,gpt-6-luna", calendar)
    await w.check()
    await w.check()
    [alert] = await payloads(store, ModelAlerted)
    assert (alert.model, alert.reason, alert.shutdown_date, alert.days_left) == (
        "gpt-4o-mini",
        "shutdown_soon",
        "2027-01-14",
        25,
    )
    [push] = await payloads(store, PushRequested)
    assert (push.audience, push.reason) == ("support", "operator_alert")
    assert "gpt-4o-mini" in push.body
    calendar.day = date(2026, 12, 21)
    await w.check()
    assert [a.day for a in await payloads(store, ModelAlerted)] == ["2026-12-20", "2026-12-21"]
    assert len(await payloads(store, PushRequested)) == 2
    assert len(await payloads(store, ModelsChecked)) == 3


async def test_an_unknown_model_name_alerts_at_the_first_check(
    store: EventStore, client: AsyncOpenAI
) -> None:
    """A typo in LLM_MODEL is an alert at start-up, not after 30 days."""
    w, _, metrics = watcher(store, client, "gpt-6-lunaa,gpt-6-luna", Calendar(date(2026, 12, 5)))
    await w.check()
    [alert] = await payloads(store, ModelAlerted)
    assert (alert.model, alert.reason) == ("gpt-6-lunaa", "unknown")
    assert metrics.registry.get_sample_value("dloop_model_available", {"model": "gpt-6-lunaa"}) == 0


async def test_an_empty_model_list_from_the_server_alerts_every_model_once(
    store: EventStore, client: AsyncOpenAI, fake_openai: fake_api.FakeOpenAI
) -> None:
    """``data: []``: each configured model is unknown and alerted once; the chain still tries."""
    fake_openai.models.clear()
    calendar = Calendar(date(2026, 12, 5))
    w, chain, _ = watcher(store, client, "gpt-6-luna,gpt-6.1-terra", calendar)
    await w.check()
    await w.check()  # the same day: nothing new to say
    checked = await payloads(store, ModelsChecked)
    assert [[(s.model, s.verdict) for s in c.models] for c in checked] == 2 * [
        [("gpt-6-luna", "unknown"), ("gpt-6.1-terra", "unknown")]
    ]
    alerts = await payloads(store, ModelAlerted)
    assert [(a.model, a.reason) for a in alerts] == [
        ("gpt-6-luna", "unknown"),
        ("gpt-6.1-terra", "unknown"),
    ]
    assert chain.usable()  # a server that lists nothing must not silence the assistant


async def test_a_malformed_date_is_recorded_as_a_note_and_loses_nothing(
    store: EventStore, client: AsyncOpenAI, fake_openai: fake_api.FakeOpenAI
) -> None:
    """The odd model counts as dateless (no alert); the other models are recorded as usual."""
    fake_openai.models["gpt-6-luna"] = "2027-02-30"
    w, _, _ = watcher(store, client, "gpt-6-luna,gpt-4o-mini", Calendar(date(2026, 12, 20)))
    await w.check()
    [checked] = await payloads(store, ModelsChecked)
    luna, mini = checked.models
    assert (luna.shutdown_date, luna.verdict, luna.note) == (
        None,
        "ok",
        "malformed shutdown_date '2027-02-30'",
    )
    assert (mini.shutdown_date, mini.verdict) == ("2027-01-14", "shutdown_soon")
    assert [a.model for a in await payloads(store, ModelAlerted)] == ["gpt-4o-mini"]


async def test_a_fall_through_mid_run_is_recorded_and_alerts_once(
    store: EventStore, client: AsyncOpenAI, fake_openai: fake_api.FakeOpenAI
) -> None:
    """The chain's 404 becomes ModelFellThrough and a 'retired' alert (once that day)."""
    w, chain, _ = watcher(store, client, "gpt-4o-mini,gpt-6-luna", Calendar(date(2026, 12, 5)))
    fake_openai.retire("gpt-4o-mini")

    async def ask(model: str) -> str:
        await client.post(
            "/chat/completions",
            cast_to=object,
            body={"model": model, "messages": [{"role": "user", "content": "x"}]},
        )
        return model

    assert await chain.run(ask) == "gpt-6-luna"
    await w.fell_through("gpt-4o-mini", "again")  # a second report the same day
    fell = await payloads(store, ModelFellThrough)
    assert [f.model for f in fell] == ["gpt-4o-mini", "gpt-4o-mini"]
    assert "model_not_found" in fell[0].error
    [alert] = await payloads(store, ModelAlerted)
    assert (alert.model, alert.reason) == ("gpt-4o-mini", "retired")


async def test_a_failed_check_is_recorded_and_keeps_what_was_known(
    store: EventStore, client: AsyncOpenAI, fake_openai: fake_api.FakeOpenAI
) -> None:
    """The server is down: ModelsChecked with the error, no alert, the chain unchanged."""
    w, chain, _ = watcher(store, client, "gpt-6-luna", Calendar(date(2026, 12, 5)))
    await w.check()
    known = dict(chain.facts)
    await fake_openai.close()
    failed = await w.check()
    assert failed.error is not None
    assert "APIConnectionError" in failed.error
    assert chain.facts == known
    assert await payloads(store, ModelAlerted) == []
