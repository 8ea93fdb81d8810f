"""Support alerts end to end: escalations and an expired WhatsApp token reach support's phones.

Signed webhooks in, the real Graph API client against the fake Graph API, the real FCM
client against the fake FCM, and support devices registered through ``/api/devices``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.fakes.graph_api import Behaviour
from events.notify import PushDelivered, PushRecordedOnly, PushRequested
from events.outbox import OperatorAlerted
from tests.journeys.conftest import CUSTOMER, FcmSetup, GraphJourney, until

pytestmark = pytest.mark.e2e
Start = Callable[..., Awaitable[GraphJourney]]
SUPPORT_TOKEN = "support-phone-token:marta_01"
CONVERSATION = f"conversation-{CUSTOMER}"


async def staff(j: GraphJourney) -> dict[str, str]:
    """Headers of a support agent's API token."""
    _, secret = await TokenStore(j.deps.engines).create(Role.SUPPORT, label="marta")
    return {"Authorization": f"Bearer {secret}"}


async def with_fcm(graph_journey: Start, fcm: FcmSetup) -> tuple[GraphJourney, dict[str, str]]:
    """A service with FCM credentials and one support device registered over the API."""
    j = await graph_journey(
        fcm_project_id="dloop-test",
        fcm_credentials_file=fcm.credentials,
        fcm_api_base=fcm.fake.base_url,
    )
    headers = await staff(j)
    device = {"owner_kind": "support", "owner_id": "marta", "token": SUPPORT_TOKEN}
    resp = await j.client.post("/api/devices", json=device, headers=headers)
    assert resp.status == 201, await resp.text()
    return j, headers


async def pushes(fcm: FcmSetup, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` messages at the fake FCM."""

    async def arrived() -> bool:
        return len(fcm.fake.sent) >= count

    await until(arrived)
    return fcm.fake.sent


async def test_an_escalation_pushes_support_devices(graph_journey: Start, fcm: FcmSetup) -> None:
    """«Voglio parlare con un operatore»: the customer is told, support's phone is alerted."""
    j, _ = await with_fcm(graph_journey, fcm)
    await j.say(CUSTOMER, "Il mio ordine non è mai arrivato, voglio parlare con un operatore")
    await j.next_to(CUSTOMER, 0, contains="operatore")
    [push] = await pushes(fcm, 1)
    assert push["token"] == SUPPORT_TOKEN
    assert push["notification"]["title"] == "Richiesta di assistenza"
    # The conversation by its pseudonymous person id: no phone number travels through FCM.
    person = (await j.deps.store.people.find(CUSTOMER)) or "missing"
    assert push["data"]["conversation"] == person
    assert CUSTOMER.removeprefix("+") not in str(push)
    assert all(isinstance(v, str) for v in push["data"].values())


async def test_an_expired_token_raises_an_operator_alert_everywhere(
    graph_journey: Start, fcm: FcmSetup
) -> None:
    """Graph API error 190: no retry, an OperatorAlerted fact, a review item, a metric, a push."""
    j, headers = await with_fcm(graph_journey, fcm)
    j.graph.script_for(CUSTOMER, Behaviour.error(190))
    await j.say(CUSTOMER, "Buongiorno!")

    async def alerted() -> bool:
        return any(isinstance(p, OperatorAlerted) for p in await j.stream(CONVERSATION))

    await until(alerted)
    [alert] = [p for p in await j.stream(CONVERSATION) if isinstance(p, OperatorAlerted)]
    assert alert.code == 190
    assert "access token" in alert.title
    sends = [r for r in j.graph.requests if r.path.endswith("/messages") and r.json]
    assert len([r for r in sends if r.json.get("to") == CUSTOMER]) == 1  # not retried

    [push] = await pushes(fcm, 1)
    assert (push["token"], push["data"]["code"]) == (SUPPORT_TOKEN, "190")
    assert "scaduto" in push["notification"]["title"]

    async def reviewed() -> bool:
        resp = await j.client.get("/api/review", headers=headers)
        items = (await resp.json())["items"]
        return any(i["kind"] == "operator_alert" for i in items)

    await until(reviewed)

    async def counted() -> bool:
        text = await (await j.client.get("/metrics")).text()
        return 'dloop_operator_alerts_total{code="190"} 1.0' in text

    await until(counted)


async def test_without_fcm_credentials_alerts_are_recorded_only(graph_journey: Start) -> None:
    """No FCM: the support alert is a PushRequested with PushRecordedOnly(no_credentials)."""
    j = await graph_journey()
    j.graph.script_for(CUSTOMER, Behaviour.error(190))
    await j.say(CUSTOMER, "Buongiorno!")

    async def recorded() -> bool:
        return any(isinstance(p, PushRecordedOnly) for p in await j.stream(CONVERSATION))

    await until(recorded)
    found = await j.stream(CONVERSATION)
    [request] = [p for p in found if isinstance(p, PushRequested)]
    assert (request.audience, request.reason) == ("support", "operator_alert")
    assert [p.reason for p in found if isinstance(p, PushRecordedOnly)] == ["no_credentials"]
    assert not [p for p in found if isinstance(p, PushDelivered)]
