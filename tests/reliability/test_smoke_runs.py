"""Short versions of the load and crash runs, as CI runs them (real processes, real HTTP).

Each spawns ``dloop-bot serve`` on a fresh database with the fake Graph API, so these are
the CI-sized proof of ``dloop-bot loadtest`` and ``dloop-bot crashtest``; the full-size
figures are in ``docs/reliability.md``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scripts.bench_e2e import migrate_url
from scripts.loadgen.crash import CrashOptions, crashtest
from scripts.loadgen.run import LoadOptions, loadtest
from tests.engine.conftest import pg_database

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


async def test_a_short_load_loses_nothing_and_sends_each_reply_once() -> None:
    """5 s at 20/s of mixed traffic: every 200 recorded once, every reply sent once."""
    report = await loadtest(LoadOptions(rate=20, duration=5, spawn="sqlite", settle=30))
    recon = report.reconciliation
    assert recon is not None
    assert report.stats.kinds["text"] > 0
    assert report.stats.ok == report.stats.scheduled  # a modest rate: nothing refused
    assert recon.settled
    assert recon.acked_deliveries > 0
    assert recon.replies_sent > 0
    assert recon.ok, recon.to_json()
    assert report.process is not None
    assert report.process["samples"] >= 1


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file."""
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    await migrate_url(url)
    return url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (a failure in CI when unreachable)."""
    async for url in pg_database():
        yield url


async def test_two_kills_on_sqlite_lose_nothing_and_send_nothing_twice(sqlite_url: str) -> None:
    """SIGKILL the one SQLite process twice under load: zero lost, zero duplicate sends."""
    report = await crashtest(
        CrashOptions(
            backend="sqlite", kills=2, rate=15, duration=10, settle=30, database_url=sqlite_url
        )
    )
    _assert_clean(report.to_json())


@pytest.mark.postgres
async def test_two_kills_across_two_postgresql_processes_lose_nothing(pg_url: str) -> None:
    """Two processes on one PostgreSQL database, two kills: zero lost, zero duplicates."""
    report = await crashtest(
        CrashOptions(
            backend="postgres",
            processes=2,
            kills=2,
            rate=15,
            duration=10,
            settle=30,
            database_url=pg_url,
        )
    )
    _assert_clean(report.to_json())


def _assert_clean(doc: dict[str, object]) -> None:
    assert doc["kills"] == 2, doc
    assert doc["acknowledged_deliveries"], doc
    assert doc["lost"] == 0, doc
    assert doc["duplicate_sends"] == 0, doc
    assert doc["never_acknowledged"] == 0, doc
    assert doc["ok"], doc
