"""A running service on a real SQLite file, reached over real HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.bootstrap import Deps, build
from adapters.settings import Settings
from adapters.store.engine import create_engines
from adapters.store.migrations import migrate
from adapters.web.app import create_app

SECRET = "test-app-secret"
VERIFY = "verify-me"

Client = TestClient[web.Request, web.Application]


def test_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a service on a fresh SQLite file with a known secret."""
    base = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/service.db",
        whatsapp_app_secret=SECRET,
        whatsapp_verify_token=VERIFY,
        whatsapp_pair_interval=0.0,  # journeys check content; pacing has its own tests
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def make_service(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[tuple[Client, Deps]]]:
    """Factory: migrate a database and serve the app over HTTP with given settings."""

    async def make(**overrides: object) -> tuple[Client, Deps]:
        settings = test_settings(tmp_path, **overrides)
        engines = create_engines(settings.database_url)
        await migrate(engines)
        await engines.dispose()
        deps = build(settings)
        client = await aiohttp_client(create_app(deps))
        return client, deps

    return make


@pytest.fixture
async def service(
    make_service: Callable[..., Awaitable[tuple[Client, Deps]]],
) -> tuple[Client, Deps]:
    """The service with default test settings."""
    return await make_service()
