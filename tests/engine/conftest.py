"""Fixtures for the reactor runtime run as real processes: fresh databases, fakes, children."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from adapters.fakes.graph_api import FakeGraphApi
from scripts.bench_e2e import (
    PHONE_NUMBER_ID,
    SECRET,
    TOKEN,
    Child,
    drop_database,
    free_port,
    fresh_database,
    service_env,
    start_service,
)
from tests.conftest import IN_CI

Spawn = Callable[..., Awaitable[tuple[Child, str]]]


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database (skipped like the other PostgreSQL tests)."""
    async for url in pg_database():
        yield url


async def pg_database() -> AsyncIterator[str]:
    """Yield a fresh, migrated PostgreSQL database, dropped afterwards."""
    try:
        url = await fresh_database()
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield url
    await drop_database(url)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphApi]:
    """The fake Graph API in this process, as every service's Meta."""
    fake = FakeGraphApi(access_token=TOKEN, phone_number_id=PHONE_NUMBER_ID, app_secret=SECRET)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def spawn(tmp_path: Path, graph: FakeGraphApi) -> AsyncIterator[Spawn]:
    """Factory: ``await spawn(database_url, port=None, **env)`` -> (child, base URL)."""
    children: list[Child] = []

    async def make(database_url: str, port: int | None = None, **env: str) -> tuple[Child, str]:
        port = port or free_port()
        log = tmp_path / f"service-{port}.log"
        child = await start_service(port, service_env(database_url, graph.base_url, **env), log)
        children.append(child)
        return child, f"http://127.0.0.1:{port}"

    yield make
    for child in children:
        await child.stop(timeout=5)
