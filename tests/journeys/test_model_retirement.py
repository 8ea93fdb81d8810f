"""The assistant outlives its model: the primary is retired mid-run and the service carries on.

The service talks to the fake OpenAI over real HTTP with the chain
``gpt-6-luna,gpt-6.1-terra``; half-way the fake retires ``gpt-6-luna`` (404
``model_not_found``). Customers keep getting answers from the fallback, the operator is
alerted once (event, review item, metric, push to a support phone through the fake FCM),
``/readyz`` stays green, ``dloop-bot models`` exits non-zero and ``dloop-bot replay``
shows which model spoke on each turn.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.fakes.openai_server import FakeOpenAI
from events.conversation import MessageUnderstood
from events.models import MODELS_STREAM, ModelAlerted, ModelFellThrough, ModelsChecked
from tests.journeys.conftest import CUSTOMER, FcmSetup, Journey

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
Start = Callable[..., Awaitable[Journey]]
SUPPORT_TOKEN = "support-phone-token:luca_02"
CHAIN = "gpt-6-luna,gpt-6.1-terra"


async def cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """Run ``dloop-bot`` in a subprocess; (exit status, stdout then stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.cli",
        *args,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert not err or b"Traceback" not in err, err.decode()
    return proc.returncode or 0, out.decode() + err.decode()


async def started(start: Start, fake: FakeOpenAI, fcm: FcmSetup) -> tuple[Journey, dict[str, str]]:
    """The service on the fake OpenAI and FCM, with one support phone registered."""
    j = await start(
        openai_api_key="sk-test",
        openai_base_url=fake.base_url,
        llm_model=CHAIN,
        fcm_project_id="dloop-test",
        fcm_credentials_file=fcm.credentials,
        fcm_api_base=fcm.fake.base_url,
    )
    _, secret = await TokenStore(j.deps.engines).create(Role.SUPPORT, label="luca")
    headers = {"Authorization": f"Bearer {secret}"}
    device = {"owner_kind": "support", "owner_id": "luca", "token": SUPPORT_TOKEN}
    resp = await j.client.post("/api/devices", json=device, headers=headers)
    assert resp.status == 201, await resp.text()
    return j, headers


async def models_stream(j: Journey) -> list[Any]:
    """The payloads of the models stream."""
    return [e.payload for e in await j.deps.store.read_stream(MODELS_STREAM)]


async def test_a_model_retired_mid_run_falls_through_and_alerts_once(
    journey_factory: Start, fake_openai: FakeOpenAI, fcm: FcmSetup
) -> None:
    """Turn 1 on the primary; retired; turns 2-3 on the fallback; one alert everywhere."""
    j, headers = await started(journey_factory, fake_openai, fcm)

    async def checked() -> bool:
        return any(isinstance(p, ModelsChecked) for p in await models_stream(j))

    await j.until(checked)  # the start-up check
    await j.say(CUSTOMER, "Buongiorno!")
    fake_openai.retire("gpt-6-luna")
    await j.say(CUSTOMER, "Ciao, siete aperti domani?")
    await j.say(CUSTOMER, "Grazie mille")

    async def three_turns() -> bool:
        found = await j.stream(f"conversation-{CUSTOMER}")
        return len([p for p in found if isinstance(p, MessageUnderstood)]) >= 3

    await j.until(three_turns)
    found = await j.stream(f"conversation-{CUSTOMER}")
    spoke = [p.trace.model for p in found if isinstance(p, MessageUnderstood)]
    assert spoke == ["gpt-6-luna", "gpt-6.1-terra", "gpt-6.1-terra"]
    assert all(p.trace.engine == "openai" for p in found if isinstance(p, MessageUnderstood))

    stream = await models_stream(j)
    assert [p.model for p in stream if isinstance(p, ModelFellThrough)] == ["gpt-6-luna"]
    [alert] = [p for p in stream if isinstance(p, ModelAlerted)]
    assert (alert.model, alert.reason) == ("gpt-6-luna", "retired")

    async def pushed() -> bool:
        return len(fcm.fake.sent) >= 1

    await j.until(pushed)
    [push] = fcm.fake.sent
    assert push["token"] == SUPPORT_TOKEN
    assert (push["data"]["model"], push["data"]["code"]) == ("gpt-6-luna", "model")

    async def reviewed() -> bool:
        items = (await (await j.client.get("/api/review", headers=headers)).json())["items"]
        return any("gpt-6-luna" in i["summary"] and i["kind"] == "operator_alert" for i in items)

    await j.until(reviewed)

    async def metrics_show_it() -> bool:
        text = await (await j.client.get("/metrics")).text()
        return (
            'dloop_model_available{model="gpt-6-luna"} 0.0' in text
            and 'dloop_operator_alerts_total{code="model"} 1.0' in text
        )

    await j.until(metrics_show_it)
    assert (await j.client.get("/readyz")).status == 200  # the fallback still answers

    assert j.deps.model_watcher is not None
    again = await j.deps.model_watcher.check()  # the daily check, the same day
    verdicts = {s.model: s.verdict for s in again.models}  # with the media chains' models
    assert verdicts == {"gpt-6-luna": "retired", "gpt-6.1-terra": "ok", "gpt-transcribe": "ok"}
    stream = await models_stream(j)
    assert len([p for p in stream if isinstance(p, ModelAlerted)]) == 1  # once per day
    assert (
        'dloop_model_shutdown_days{model="gpt-6-luna"}'
        in await (await j.client.get("/metrics")).text()
    )

    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "LLM_MODEL": CHAIN,
        "DATABASE_URL": j.deps.settings.database_url,
    }
    status, out = await cli("models", env=env)
    assert status == 1, out
    assert "gpt-6-luna" in out
    assert "retired" in out
    status, out = await cli("replay", "--phone", CUSTOMER, env=env)
    assert status == 0, out
    understood = [line for line in out.splitlines() if "message_understood" in line]
    assert ["gpt-6-luna" in u for u in understood] == [True, False, False]
    assert ["gpt-6.1-terra" in u for u in understood] == [False, True, True]


async def test_offline_nothing_is_asked_and_models_says_so(
    journey_factory: Start, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """No key: no watcher, no request to any server; ``dloop-bot models`` exits 0."""
    j = await journey_factory(openai_base_url=fake_openai.base_url)
    assert j.deps.model_watcher is None
    await j.say(CUSTOMER, "Buongiorno!")
    assert fake_openai.requests == []
    assert await models_stream(j) == []
    env = {
        "OPENAI_BASE_URL": fake_openai.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    status, out = await cli("models", env=env)
    assert status == 0
    assert "unchecked" in out
    assert "offline" in out
    assert fake_openai.requests == []


async def test_models_command_reports_an_unknown_first_model(fake_openai: FakeOpenAI) -> None:
    """A typo in the first model: exit 1 and 'unknown'; the fallback is shown as ok."""
    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "LLM_MODEL": "gpt-6-lunaa,gpt-6-luna",
    }
    status, out = await cli("models", env=env)
    assert status == 1
    first, second = [line for line in out.splitlines() if line.startswith("LLM_MODEL ")]
    assert "unknown" in first
    assert " ok " in second
    assert [r.path for r in fake_openai.requests] == ["/v1/models"]


async def test_models_command_passes_with_a_soon_retiring_fallback(
    fake_openai: FakeOpenAI,
) -> None:
    """A healthy first model: exit 0, and the dated fallback shows its date in the table."""
    env = {
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_openai.base_url,
        "LLM_MODEL": "gpt-6-luna,gpt-4o-mini",
    }
    status, out = await cli("models", env=env)
    assert status == 0
    assert "2027-01-14" in out


@pytest.mark.parametrize(
    ("chain", "says"),
    [(" , ", "LLM_MODEL names no model"), ("gpt-6-luna,gpt-6-luna", "names 'gpt-6-luna' twice")],
)
async def test_models_command_refuses_a_bad_chain_before_asking(
    fake_openai: FakeOpenAI, chain: str, says: str
) -> None:
    """An empty list or a duplicate: exit 2 with a one-line reason; the server is not asked."""
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_openai.base_url, "LLM_MODEL": chain}
    status, out = await cli("models", env=env)
    assert status == 2
    assert says in out
    assert fake_openai.requests == []


async def test_the_media_chains_are_watched_on_the_sandbox_transport_too(
    journey_factory: Start, fake_openai: FakeOpenAI
) -> None:
    """No Graph API, so no media is read; an unknown transcription model still alerts at once."""
    j = await journey_factory(
        openai_api_key="sk-test",
        openai_base_url=fake_openai.base_url,
        llm_transcription_model="gpt-typo-transcribe",
    )

    async def alerted() -> bool:
        return any(isinstance(p, ModelAlerted) for p in await models_stream(j))

    await j.until(alerted)
    stream = await models_stream(j)
    assert [(p.model, p.reason) for p in stream if isinstance(p, ModelAlerted)] == [
        ("gpt-typo-transcribe", "unknown")
    ]
    [checked] = [p for p in stream if isinstance(p, ModelsChecked)]
    assert [s.model for s in checked.models] == [
        "gpt-6-luna",
        "gpt-6.1-terra",
        "gpt-typo-transcribe",
    ]
