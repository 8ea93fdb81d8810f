"""One contract for every PushClient: the recording twin and FCM over HTTP on the fake FCM.

The FCM client signs a real service-account JWT, exchanges it at the fake token
endpoint and posts FCM v1 messages; the fake checks both as Google does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from adapters.notify.fcm import FcmClient
from adapters.notify.recorded import RecordingPushClient
from core.ports import PermanentError, PushClient, TransientError, UnregisteredTokenError
from tests.support.fcm import fake_fcm

TOKEN = "device-token-1"


@dataclass(frozen=True, slots=True)
class Delivered:
    """A notification as it reached the device, in the terms both clients share."""

    token: str
    title: str
    body: str
    data: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """A push client, what reached devices, and switches for a stale token and an outage."""

    push: PushClient
    delivered: Callable[[], list[Delivered]]
    unregister: Callable[[str], None]
    take_down: Callable[[], Awaitable[None]]


@pytest.fixture(params=["recorded", "fcm"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[Case]:
    """Each push client with its observation point."""
    if request.param == "recorded":
        recorder = RecordingPushClient()

        async def take_down() -> None:
            recorder.down = True

        yield Case(
            push=recorder,
            delivered=lambda: [
                Delivered(s.token, s.title, s.body, dict(s.data)) for s in recorder.sent
            ],
            unregister=recorder.unregistered.add,
            take_down=take_down,
        )
        return
    async with fake_fcm() as (fake, account), aiohttp.ClientSession() as session:
        client = FcmClient(
            session,
            project_id=str(account["project_id"]),
            service_account=account,
            api_base=fake.base_url,
            timeout=2.0,
        )
        yield Case(
            push=client,
            delivered=lambda: [
                Delivered(
                    m["token"], m["notification"]["title"], m["notification"]["body"], m["data"]
                )
                for m in fake.sent
            ],
            unregister=fake.unregistered.add,
            take_down=fake.close,  # token endpoint and send API gone: connections refused
        )


async def test_a_notification_reaches_the_device_with_title_body_and_data(case: Case) -> None:
    """What was sent arrives as given, and its message name is returned."""
    name = await case.push.send(
        TOKEN, title="Nuovo ordine", body="2 x Latte", data={"order": "r-1"}
    )
    assert name
    assert case.delivered() == [Delivered(TOKEN, "Nuovo ordine", "2 x Latte", {"order": "r-1"})]


async def test_each_notification_gets_its_own_name(case: Case) -> None:
    """Two sends are two messages with two names."""
    first = await case.push.send(TOKEN, title="a", body="a", data={})
    second = await case.push.send(TOKEN, title="b", body="b", data={})
    assert first != second


async def test_a_body_over_the_size_limit_is_shortened_not_refused(case: Case) -> None:
    """A long body is cut so the whole message fits FCM's 4 KB; the start is kept."""
    body = "Ordine lungo. " * 600
    await case.push.send(TOKEN, title="Ordine", body=body, data={})
    [delivered] = case.delivered()
    assert 0 < len(delivered.body.encode()) < 4096
    assert body.startswith(delivered.body)


async def test_data_alone_over_the_size_limit_is_a_permanent_error(case: Case) -> None:
    """Data that cannot fit is refused for good, and nothing is sent."""
    with pytest.raises(PermanentError, match="4 KB"):
        await case.push.send(TOKEN, title="Ordine", body="x", data={"blob": "x" * 5000})
    assert case.delivered() == []


async def test_an_unregistered_token_is_reported_as_such(case: Case) -> None:
    """A token the provider forgot raises UnregisteredTokenError, so the caller removes it."""
    case.unregister(TOKEN)
    with pytest.raises(UnregisteredTokenError):
        await case.push.send(TOKEN, title="Ordine", body="x", data={})
    assert case.delivered() == []


async def test_an_unreachable_provider_is_a_transient_error(case: Case) -> None:
    """An outage is worth retrying: TransientError, and nothing is delivered."""
    await case.take_down()
    with pytest.raises(TransientError):
        await case.push.send(TOKEN, title="Ordine", body="x", data={})
    assert case.delivered() == []
