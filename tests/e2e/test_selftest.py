"""``selftest`` against a real running service over HTTP."""

from __future__ import annotations

import pytest

from adapters.bootstrap import Deps
from adapters.selftest import SAMPLES, run_selftest
from tests.e2e.conftest import SECRET, Client

pytestmark = pytest.mark.e2e


async def test_selftest_passes_every_case_and_records_them(service: tuple[Client, Deps]) -> None:
    """Every sample is accepted and recorded; the duplicate adds nothing."""
    client, deps = service
    results = await run_selftest(str(client.make_url("/webhook")), SECRET)
    assert [r.name for r in results if not r.ok] == []
    assert len(results) == len(SAMPLES) + 2
    types = [e.type for e in await deps.store.read_all(0, 1000)]
    assert types.count("whatsapp.webhook_received") == len(SAMPLES) + 1
    assert types.count("whatsapp.status_received") == 3


async def test_selftest_with_the_wrong_secret_reports_every_case_failed(
    service: tuple[Client, Deps],
) -> None:
    """A wrong secret is visible as 403 on each case, not a crash."""
    client, _ = service
    results = await run_selftest(str(client.make_url("/webhook")), "wrong")
    assert all(r.status == 403 and not r.ok for r in results)
