"""``/api/devices``: register, list and remove push device tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.notify.devices import DEVICES_STREAM, DeviceRegistry, fingerprint
from events.notify import DeviceRegistered, DeviceRemoved
from tests.api.conftest import Api, MakeService
from tests.engine.conftest import pg_database

pytestmark = pytest.mark.e2e
TOKEN = "fcm-token:APA91bH-rider_001.example"
RIDER = "+393401112233"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def devices_api(
    request: pytest.FixtureRequest, make_service: MakeService, tmp_path: Path
) -> AsyncIterator[Api]:
    """The service on a SQLite file, then on a fresh PostgreSQL database, with role tokens."""
    databases = pg_database() if request.param == "postgres" else None
    overrides: dict[str, object] = {"debounce_seconds": 0.0}
    if databases is not None:
        overrides["database_url"] = await anext(databases)
    client, deps = await make_service(**overrides)
    api = Api(client, deps)
    tokens = TokenStore(deps.engines)
    for who, role, dealer in (
        ("admin", Role.ADMIN, None),
        ("support", Role.SUPPORT, None),
        ("dealer_a", Role.DEALER, "d-pet"),
    ):
        _, api.secrets[who] = await tokens.create(role, dealer_id=dealer, label=who)
    yield api
    if databases is not None:
        await client.close()
        await deps.close()
        await anext(databases, None)


async def register(api: Api, body: object, who: str = "admin", status: int = 201) -> dict[str, Any]:
    """POST /api/devices and check the status."""
    resp = await api.post("/api/devices", who, json=body)
    assert resp.status == status, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def test_staff_registers_a_rider_device_which_the_notify_sender_will_use(
    devices_api: Api,
) -> None:
    """201 with the fingerprint (never the token); the phone is stored in E.164."""
    body = {"owner_kind": "rider", "owner_id": "340 111 2233", "token": TOKEN, "platform": "ios"}
    answer = await register(devices_api, body, who="support")
    assert answer["device"] == fingerprint(TOKEN)
    assert (answer["owner_kind"], answer["owner_id"], answer["platform"]) == ("rider", RIDER, "ios")
    assert TOKEN not in str(answer)
    [device] = await DeviceRegistry(devices_api.deps.engines).list("rider", RIDER)
    assert device.token == TOKEN


async def test_registration_is_recorded_as_an_event_without_the_token(devices_api: Api) -> None:
    """The devices stream holds who registered what, by fingerprint, like the CLI records."""
    await register(devices_api, {"owner_kind": "support", "owner_id": "marta", "token": TOKEN})
    resp = await devices_api.client.delete(
        f"/api/devices/{TOKEN}", headers=devices_api.auth("admin")
    )
    assert resp.status == 200
    stream = await devices_api.deps.store.read_stream(DEVICES_STREAM)
    [added, removed] = [e.payload for e in stream]
    assert added == DeviceRegistered(
        device=fingerprint(TOKEN),
        owner_kind="support",
        owner="marta",
        platform=None,
        by="api:admin",
    )
    assert removed == DeviceRemoved(device=fingerprint(TOKEN), by="api:admin")
    assert all(TOKEN not in str(e.payload) for e in stream)


async def test_registering_the_same_token_again_moves_it_and_answers_200(devices_api: Api) -> None:
    """One row per token: the second owner wins; no duplicate."""
    await register(devices_api, {"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN})
    moved = {"owner_kind": "support", "owner_id": "marta", "token": TOKEN}
    answer = await register(devices_api, moved, status=200)
    assert answer["owner_kind"] == "support"
    listed = await devices_api.json("/api/devices")
    assert [(d["device"], d["owner_id"]) for d in listed["items"]] == [
        (fingerprint(TOKEN), "marta")
    ]


async def test_list_filters_by_owner_kind_and_owner(devices_api: Api) -> None:
    """GET /api/devices?owner_kind=&owner_id= narrows the list; a bad kind is a 422."""
    await register(devices_api, {"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN})
    other = {"owner_kind": "support", "owner_id": "marta", "token": "support-token-0001"}
    await register(devices_api, other)
    riders = await devices_api.json("/api/devices?owner_kind=rider")
    assert [d["owner_id"] for d in riders["items"]] == [RIDER]
    mine = await devices_api.json("/api/devices?owner_id=marta")
    assert [d["owner_kind"] for d in mine["items"]] == ["support"]
    bad = await devices_api.json("/api/devices?owner_kind=dealer", status=422)
    assert "owner_kind must be one of" in bad["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"owner_kind": "dealer", "owner_id": "x", "token": TOKEN}, "owner_kind must be one of"),
        ({"owner_kind": "rider", "owner_id": "not a phone", "token": TOKEN}, "phone number"),
        ({"owner_kind": "rider", "owner_id": RIDER, "token": "x" * 4097}, "token must be"),
        ({"owner_kind": "rider", "owner_id": RIDER, "token": "has spaces in it"}, "token must be"),
        ({"owner_kind": "rider", "owner_id": RIDER}, "token is required"),
        ({"owner_kind": "support", "owner_id": "", "token": TOKEN}, "owner_id must have"),
        (
            {"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN, "platform": "nokia"},
            "platform must be one of",
        ),
        ({"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN, "x": 1}, "unknown field: x"),
        (["rider", RIDER, TOKEN], "body must be a JSON object"),
    ],
)
async def test_invalid_registrations_are_422_and_nothing_is_stored(
    devices_api: Api, body: object, message: str
) -> None:
    """A clear message naming the field; no row and no event."""
    answer = await register(devices_api, body, status=422)
    assert message in answer["error"]
    assert await DeviceRegistry(devices_api.deps.engines).list() == []
    assert await devices_api.deps.store.read_stream(DEVICES_STREAM) == []


async def test_dealers_and_anonymous_callers_may_not_touch_devices(devices_api: Api) -> None:
    """403 for a dealer token, 401 without a token, on every device route."""
    body = {"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN}
    assert (await devices_api.post("/api/devices", "dealer_a", json=body)).status == 403
    assert (await devices_api.get("/api/devices", "dealer_a")).status == 403
    assert (await devices_api.post("/api/devices", None, json=body)).status == 401
    gone = await devices_api.client.delete(
        f"/api/devices/{TOKEN}", headers=devices_api.auth("dealer_a")
    )
    assert gone.status == 403
    assert await DeviceRegistry(devices_api.deps.engines).list() == []


async def test_remove_by_fingerprint_and_404_for_an_unknown_device(devices_api: Api) -> None:
    """An admin can remove what the list shows (the fingerprint); a second remove is 404."""
    await register(devices_api, {"owner_kind": "rider", "owner_id": RIDER, "token": TOKEN})
    url = f"/api/devices/{fingerprint(TOKEN)}"
    headers = devices_api.auth("support")
    first = await devices_api.client.delete(url, headers=headers)
    assert (first.status, (await first.json())["removed"]) == (200, fingerprint(TOKEN))
    assert (await devices_api.client.delete(url, headers=headers)).status == 404
    assert await DeviceRegistry(devices_api.deps.engines).list() == []
