"""Leases: PostgreSQL advisory locks and SQLite file ownership."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.engine.lease import FileOwnership, PgAdvisoryLeases, lease_key
from adapters.store.engine import create_engines

pytestmark = pytest.mark.integration


def test_lease_key_is_a_stable_signed_64_bit_number() -> None:
    """The same name gives the same key everywhere, within PostgreSQL's bigint range."""
    key = lease_key("conversation:conversation-+393281234567")
    assert key == lease_key("conversation:conversation-+393281234567")
    assert -(2**63) <= key < 2**63
    assert key != lease_key("outbox:conversation-+393281234567")


@pytest.mark.postgres
async def test_advisory_lease_is_exclusive_between_processes_and_freed_on_release(
    pg_url: str,
) -> None:
    """A second holder (another session) is refused until the first releases."""
    one, two = create_engines(pg_url), create_engines(pg_url)
    first, second = PgAdvisoryLeases(one.writer), PgAdvisoryLeases(two.writer)
    try:
        assert await first.try_acquire("conversation:c-1")
        assert not await second.try_acquire("conversation:c-1")
        assert await second.try_acquire("conversation:c-2")
        await first.release("conversation:c-1")
        assert await second.try_acquire("conversation:c-1")
    finally:
        await first.close()
        await second.close()
        await one.dispose()
        await two.dispose()


@pytest.mark.postgres
async def test_advisory_lease_is_freed_when_its_holder_goes_away(pg_url: str) -> None:
    """Closing the holder's connections (as a dying process does) frees its leases."""
    one, two = create_engines(pg_url), create_engines(pg_url)
    first, second = PgAdvisoryLeases(one.writer), PgAdvisoryLeases(two.writer)
    try:
        assert await first.try_acquire("outbox:c-9")
        await first.close()
        assert await second.try_acquire("outbox:c-9")
    finally:
        await second.close()
        await one.dispose()
        await two.dispose()


async def test_sqlite_file_has_one_owner_until_it_lets_go(tmp_path: Path) -> None:
    """A second owner of the same file and reactor is refused until the first closes."""
    first = FileOwnership(tmp_path / "x.db", "conversation")
    second = FileOwnership(tmp_path / "x.db", "conversation")
    assert await first.try_acquire("conversation:any")
    assert not await second.try_acquire("conversation:any")
    await first.close()
    assert await second.try_acquire("conversation:any")
    await second.close()
