"""Reconciliation finds what was acknowledged but is missing from the log."""

from __future__ import annotations

from pathlib import Path

from scripts.bench_e2e import migrate_url
from scripts.loadgen.reconcile import reconcile, wait_settled
from scripts.loadgen.traffic import Traffic


async def test_an_acknowledged_delivery_missing_from_the_log_counts_as_lost(
    tmp_path: Path,
) -> None:
    """A delivery the generator believes acknowledged, absent from an empty log: lost 1."""
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    await migrate_url(url)
    delivery = Traffic("s", phones=5, phone_number_id="1").next()
    report = await reconcile(url, {delivery.sha256: delivery}, None, settled=False)
    assert report.lost == 1
    assert report.messages_missing == len(delivery.wamids) >= 1
    assert not report.ok
    assert not await wait_settled(url, delivery.wamids, timeout=0.0)
