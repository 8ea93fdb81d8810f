"""``POST /api/review/{id}/retry`` over real HTTP, on SQLite and PostgreSQL.

The service sends through the real Graph API client to the local fake Graph API, which
is scripted to refuse sends, so failed sends reach the review queue the way they do in
production (the outbox records ``OutboundFailed``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.auth.tokens import Role, TokenStore
from adapters.bootstrap import build
from adapters.fakes.graph_api import Behaviour, FakeGraphApi
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.store.types import Expect
from adapters.web.api.review import RETRIER
from adapters.web.app import create_app
from events.base import NewEvent
from events.conversation import AssistantFailed
from events.engine import ReactorEventParked
from tests.api.conftest import CATALOG, CUSTOMER, Api
from tests.conftest import drop_pg_schema, make_pg_engines, person_stream
from tests.e2e.conftest import Client
from tests.e2e.conftest import test_settings as settings_for

pytestmark = pytest.mark.e2e


def stream() -> str:
    """The customer's conversation stream (named by their person id once they wrote)."""
    return person_stream(CUSTOMER)


class RetryApi(Api):
    """The API helper plus the fake Graph API the service sends to."""

    fake: FakeGraphApi

    async def items(self, status: str = "open") -> dict[str, dict[str, Any]]:
        """Review items by kind."""
        page = await self.json(f"/api/review?status={status}")
        return {i["kind"]: i for i in page["items"]}

    async def retry(self, item_id: str, who: str | None = "admin", query: str = "") -> Any:
        """POST the retry and return the response."""
        return await self.post(f"/api/review/{item_id}/retry{query}", who)

    async def failed_greeting(self) -> dict[str, Any]:
        """The customer writes; the fake refuses the bot's answer (131026: undeliverable)."""
        self.fake.script_for(CUSTOMER, Behaviour.error(131026))
        await self.say(CUSTOMER, "Buongiorno!")
        await self.until(lambda: self._has("outbound_failed"))
        await self.settle()
        return (await self.items())["outbound_failed"]

    async def _has(self, kind: str) -> bool:
        return kind in await self.items()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def api(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[Client]],
) -> AsyncIterator[RetryApi]:
    """The service on each backend, sending to a fake Graph API, with one token per role."""
    fake = FakeGraphApi()
    base = await fake.start()
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    settings = settings_for(
        tmp_path,
        catalog_file=catalog,
        debounce_seconds=0.0,
        whatsapp_access_token=fake.access_token,
        whatsapp_phone_number_id=fake.phone_number_id,
        whatsapp_api_base=base,
    )
    schema = None
    if request.param == "sqlite":
        engines = create_engines(settings.database_url)
    else:
        engines, schema = await make_pg_engines()
    await migrate(engines)
    deps = build(settings, engines=engines)
    client = await aiohttp_client(create_app(deps))
    made = RetryApi(client, deps)
    made.fake = fake
    tokens = TokenStore(deps.engines)
    for who, role, dealer in (
        ("admin", Role.ADMIN, None),
        ("support", Role.SUPPORT, None),
        ("dealer_a", Role.DEALER, "d-a"),
    ):
        _, made.secrets[who] = await tokens.create(role, dealer_id=dealer, label=who)
    try:
        yield made
    finally:
        await client.close()
        await fake.close()
        if schema is not None:
            await drop_pg_schema(schema)


async def test_a_failed_send_is_queued_again_and_delivered(api: RetryApi) -> None:
    """Retry re-queues the same text under a new id, linked to the original; Meta gets it."""
    item = await api.failed_greeting()
    assert api.fake.accepted == []
    response = await api.retry(item["id"], who="support")
    assert response.status == 202, await response.text()
    body = await response.json()
    retry = body["retry"]
    assert body["item"]["status"] == "retried"
    assert retry["succeeded"]
    assert retry["outbound_id"] != retry["original_outbound_id"]
    assert [e["type"] for e in retry["events"]] == [
        "conversation.reply_queued",
        "engine.review_item_retried",
    ]
    await api.until(lambda: _accepted(api))
    [sent] = api.fake.accepted
    assert sent["biz_opaque_callback_data"] == retry["outbound_id"]
    history = await api.deps.store.read_stream(stream())
    queued = {e.payload.outbound_id: e for e in history if e.type == "conversation.reply_queued"}
    original, again = queued[retry["original_outbound_id"]], queued[retry["outbound_id"]]
    assert again.payload.text == original.payload.text
    assert again.metadata.causation_id == str(original.event_id)
    [record] = [e.payload for e in history if e.type == "engine.review_item_retried"]
    assert (record.agent, record.item_id) == ("support", item["id"])
    await api.settle()
    assert (await api.items("retried"))["outbound_failed"]["id"] == item["id"]
    sent_ok = [e for e in history if e.type == "conversation.outbound_sent"]
    assert sent_ok == [] or sent_ok[0].payload.outbound_id == retry["outbound_id"]


async def _accepted(api: RetryApi) -> bool:
    return bool(api.fake.accepted)


async def test_retrying_twice_is_409_and_sends_once(api: RetryApi) -> None:
    """The second retry of the same item is refused; one new send only."""
    item = await api.failed_greeting()
    assert (await api.retry(item["id"])).status == 202
    again = await api.retry(item["id"])
    assert again.status == 409
    history = await api.deps.store.read_stream(stream())
    assert len([e for e in history if e.type == "engine.review_item_retried"]) == 1


async def test_roles_unknown_ids_and_bad_input(api: RetryApi) -> None:
    """Dealer 403, no token 401, unknown id 404, unknown parameter 422: nothing is sent."""
    item = await api.failed_greeting()
    assert (await api.retry(item["id"], who="dealer_a")).status == 403
    assert (await api.retry(item["id"], who=None)).status == 401
    assert (await api.retry(str(uuid.uuid4()))).status == 404
    assert (await api.retry(item["id"], query="?force=1")).status == 422
    history = await api.deps.store.read_stream(stream())
    assert [e for e in history if e.type == "engine.review_item_retried"] == []
    assert (await api.items())["outbound_failed"]["status"] == "open"


async def test_escalations_and_dismissed_items_are_409(api: RetryApi) -> None:
    """An escalation cannot be retried; a dismissed failed send cannot either."""
    item = await api.failed_greeting()
    escalated = (await api.items())["escalated"]
    refused = await api.retry(escalated["id"])
    assert refused.status == 409
    assert "take the conversation over" in (await refused.json())["error"]
    assert (await api.post(f"/api/review/{item['id']}/dismiss")).status == 200
    assert (await api.retry(item["id"])).status == 409


async def test_an_opted_out_customer_gets_nothing(api: RetryApi) -> None:
    """After STOP, the failed send is not queued again (409) and nothing is appended."""
    item = await api.failed_greeting()
    await api.say(CUSTOMER, "STOP")
    await api.settle()
    before = await api.deps.store.read_stream(stream())
    refused = await api.retry(item["id"])
    assert refused.status == 409
    assert "opted out" in (await refused.json())["error"]
    assert len(await api.deps.store.read_stream(stream())) == len(before)


async def test_outside_the_window_the_retry_is_409_with_a_template_hint(api: RetryApi) -> None:
    """A retry asked for 25 hours after the customer last wrote is refused: nothing sent."""
    item = await api.failed_greeting()
    later = datetime.now(UTC) + timedelta(hours=25)
    api.client.app[RETRIER].clock = lambda: later
    before = len(await api.deps.store.read_stream(stream()))
    refused = await api.retry(item["id"])
    assert refused.status == 409
    body = await refused.json()
    assert "24 hours" in body["error"]
    assert "template" in body["hint"]
    assert len(await api.deps.store.read_stream(stream())) == before


async def test_an_assistant_failure_cannot_be_re_run(api: RetryApi) -> None:
    """No machinery re-runs an assistant turn: 409 with what to do instead."""
    failed = AssistantFailed(operation="understand", error="timeout", wamids=("wamid.X",))
    await api.deps.store.append(
        stream(), Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=failed)]
    )
    await api.settle()
    item = (await api.items())["assistant_failed"]
    refused = await api.retry(item["id"], who="support")
    assert refused.status == 409
    assert "assistant" in (await refused.json())["error"]


async def park(api: RetryApi, position: int) -> dict[str, Any]:
    """Park the event at ``position`` for the conversation reactor; the item it opens."""
    parked = ReactorEventParked(
        reactor="conversation",
        stream=stream(),
        position=position,
        event_type="whatsapp.message_received",
        error="AssistantError: down",
    )
    await api.deps.store.append(
        "parked-conversation", Expect.ANY, [NewEvent(event_id=uuid.uuid4(), payload=parked)]
    )
    await api.settle()
    return (await api.items())["parked"]


async def test_a_parked_event_is_re_driven_through_reprocess(api: RetryApi) -> None:
    """The conversation reactor re-drives the parked message; the item turns retried."""
    await api.say(CUSTOMER, "Buongiorno!", wait=5)
    await api.settle()
    history = await api.deps.store.read_stream(stream())
    message = next(e for e in history if e.type == "whatsapp.message_received")
    item = await park(api, message.position)
    response = await api.retry(item["id"])
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["retry"]["succeeded"] is True
    assert body["item"]["status"] == "retried"
    parked = [e.type for e in await api.deps.store.read_stream("parked-conversation")]
    assert parked[-2:] == ["engine.parked_event_reprocessed", "engine.review_item_retried"]
    await api.settle()
    assert "parked" in await api.items("retried")
    assert (await api.retry(item["id"])).status == 409


async def test_a_re_drive_that_fails_again_leaves_the_item_open(api: RetryApi) -> None:
    """A parked position with no event: the re-drive fails, is recorded, the item stays open."""
    item = await park(api, 10**9)
    response = await api.retry(item["id"])
    assert response.status == 200
    body = await response.json()
    assert body["retry"]["succeeded"] is False
    assert "no event at position" in body["retry"]["error"]
    await api.settle()
    assert (await api.items())["parked"]["status"] == "open"
