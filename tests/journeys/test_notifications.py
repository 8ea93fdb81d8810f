"""Dealer silence and push notifications: reminder, support alert, FCM, expired tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from adapters.notify.devices import DeviceRegistry, fingerprint
from events.notify import PushDelivered, PushFailed, PushRecordedOnly, PushRequested
from events.orders import DealerReminded, OrderEscalated
from scripts import cli
from tests.journeys.conftest import CUSTOMER, PET, FcmSetup, Journey, buttons

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[Journey]]


async def relayed_order(j: Journey) -> str:
    """A relayed one-line order; returns the relay stream."""
    await j.say(PET, "aiuto")
    await j.say(CUSTOMER, "vorrei una lettiera")
    await j.confirm(CUSTOMER)
    relayed = await j.next_to(PET, 1, contains="Nuovo ordine")
    relay_id = buttons(relayed)[0][0].removeprefix("order:accept:")
    return f"order-{relay_id}"


async def test_a_silent_dealer_is_reminded_then_support_is_alerted(journey_factory: Start) -> None:
    """No answer: a reminder with the buttons, then support (recorded only without FCM)."""
    j = await journey_factory(dealer_reminder_minutes=0.005)
    stream = await relayed_order(j)
    reminder = await j.next_to(PET, 2, contains="Promemoria")
    assert [t for _, t in buttons(reminder)] == ["Accetta", "Rifiuta"]
    await j.next_to(CUSTOMER, 0, contains="un operatore sta verificando")

    async def recorded() -> bool:
        return any(isinstance(p, PushRecordedOnly) for p in await j.stream(stream))

    await j.until(recorded)
    relay = await j.stream(stream)
    timed = [type(p).__name__ for p in relay if isinstance(p, DealerReminded | OrderEscalated)]
    assert timed == ["DealerReminded", "OrderEscalated"]
    [push] = [p for p in relay if isinstance(p, PushRequested)]
    assert (push.audience, push.reason) == ("support", "dealer_silent")
    assert [p.reason for p in relay if isinstance(p, PushRecordedOnly)] == ["no_credentials"]


async def test_fcm_alerts_riders_and_drops_unregistered_tokens(
    journey_factory: Start, fcm: FcmSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On acceptance riders get a push; a token FCM calls UNREGISTERED is removed."""
    j = await journey_factory(
        fcm_project_id="dloop-test",
        fcm_credentials_file=fcm.credentials,
        fcm_api_base=fcm.fake.base_url,
    )
    monkeypatch.setenv("DATABASE_URL", j.deps.settings.database_url)
    for token in ("rider-token-ok", "rider-token-gone"):
        args = ["devices", "add", "--kind", "rider", "--owner", "+393401112233", "--token", token]
        assert await asyncio.to_thread(cli.main, args) == 0
    fcm.fake.unregistered.add("rider-token-gone")
    stream = await relayed_order(j)
    [ack] = await j.say(PET, "accetto")
    assert "accettato" in str(ack)

    async def settled() -> bool:
        return sum(isinstance(p, PushDelivered | PushFailed) for p in await j.stream(stream)) == 2

    await j.until(settled)
    relay = await j.stream(stream)
    [delivered] = [p for p in relay if isinstance(p, PushDelivered)]
    [failed] = [p for p in relay if isinstance(p, PushFailed)]
    assert delivered.device == fingerprint("rider-token-ok")
    assert (failed.device, failed.unregistered) == (fingerprint("rider-token-gone"), True)
    [message] = fcm.fake.sent
    assert message["token"] == "rider-token-ok"
    assert all(isinstance(v, str) for v in message["data"].values())
    assert fcm.fake.grants[0]["aud"] == f"{fcm.fake.base_url}/token"
    remaining = [d.token for d in await DeviceRegistry(j.deps.engines).list()]
    assert remaining == ["rider-token-ok"]


async def test_devices_cli_adds_lists_and_removes_tokens(
    journey_factory: Start, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dloop-bot devices``: add a support agent's token, list it by fingerprint, remove it."""
    j = await journey_factory()
    monkeypatch.setenv("DATABASE_URL", j.deps.settings.database_url)
    add = ["devices", "add", "--kind", "support", "--owner", "agente-marta", "--token", "tok-1"]
    assert await asyncio.to_thread(cli.main, add) == 0
    assert await asyncio.to_thread(cli.main, ["devices", "list"]) == 0
    listing = capsys.readouterr().out
    assert fingerprint("tok-1") in listing
    assert "agente-marta" in listing
    assert "tok-1" not in listing
    assert await asyncio.to_thread(cli.main, ["devices", "remove", "--token", "tok-1"]) == 0
    assert await asyncio.to_thread(cli.main, ["devices", "remove", "--token", "tok-1"]) == 2
    assert "no such device token" in capsys.readouterr().err
