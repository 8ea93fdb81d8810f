"""Health, readiness and Prometheus metrics over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text

from adapters.bootstrap import Deps
from adapters.meta.signature import sign
from tests.e2e.conftest import SECRET, Client
from tests.e2e.test_webhook_http import body_for

pytestmark = pytest.mark.e2e
Make = Callable[..., Awaitable[tuple[Client, Deps]]]


async def test_healthz_and_readyz_answer_ok_on_a_healthy_service(make_service: Make) -> None:
    """Alive and ready, with the current lag reported."""
    client, _ = await make_service()
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["status"] == "ready"


async def test_readyz_is_503_when_the_database_cannot_answer(make_service: Make) -> None:
    """A database that fails the readiness queries makes the service not ready."""
    client, deps = await make_service()
    async with deps.engines.writer.begin() as conn:
        await conn.execute(text("DROP TABLE checkpoints"))
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["status"] == "unavailable"


async def test_readyz_is_503_when_a_subscriber_lags_beyond_the_bound(make_service: Make) -> None:
    """A subscriber far behind the log (beyond READY_MAX_LAG) fails readiness."""
    client, deps = await make_service(ready_max_lag=2)
    async with deps.store.transaction() as conn:
        await deps.store.save_checkpoint("stuck-subscriber", 0, conn)
    for i in range(3):
        body = body_for(wamid=f"wamid.LAG{i}")
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
        assert (await client.post("/webhook", data=body, headers=headers)).status == 200
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert (await resp.json())["status"] == "lagging"


async def test_metrics_count_deliveries_duplicates_rejections_and_latency(
    make_service: Make,
) -> None:
    """One recorded, one duplicate, one rejected delivery show in the exposition."""
    client, _ = await make_service(debounce_seconds=0.0)
    body = body_for()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}
    for _ in range(2):
        assert (await client.post("/webhook", data=body, headers=headers)).status == 200
    await client.post("/webhook", data=body, headers={"Content-Type": "application/json"})
    text = await (await client.get("/metrics")).text()
    assert 'dloop_webhook_deliveries_total{outcome="recorded"} 1.0' in text
    assert 'dloop_webhook_deliveries_total{outcome="duplicate"} 1.0' in text
    assert 'dloop_webhook_deliveries_total{outcome="rejected_401"} 1.0' in text
    assert 'dloop_webhook_seconds_count{status="200"} 2.0' in text
    assert "dloop_subscription_lag_events" in text
