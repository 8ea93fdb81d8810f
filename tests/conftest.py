"""Shared fixtures: a real SQLite file and a real PostgreSQL schema per test.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local server's ``test``
database). Outside CI a missing server skips the PostgreSQL tests with a clear reason;
with ``CI=true`` it is an error, so CI cannot pass without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
import asyncpg
import pytest
from openai import AsyncOpenAI

from adapters.assistant.openai_assistant import build_openai_client
from adapters.bootstrap import load_catalog
from adapters.fakes.graph_api import FakeGraphApi
from adapters.fakes.openai_server import FakeOpenAI
from adapters.meta.graph import GraphMessenger
from adapters.store.engine import Engines, create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from adapters.store.people import latest_person_of
from core.catalog import Catalog

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pg_available() -> str | None:
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return str(exc)
    await conn.close()
    return None


async def make_pg_engines() -> tuple[Engines, str]:
    """A fresh schema on the test PostgreSQL and engines bound to it."""
    problem = await _pg_available()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    await conn.close()
    return create_engines(PG_URL, pg_schema=schema), schema


async def drop_pg_schema(schema: str) -> None:
    """Remove a test schema and everything in it."""
    conn = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engines(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[Engines]:
    """Migrated engines on a real SQLite file, then on a real PostgreSQL schema."""
    schema: str | None = None
    if request.param == "sqlite":
        made = create_engines(f"sqlite+aiosqlite:///{tmp_path}/events.db")
    else:
        made, schema = await make_pg_engines()
    await migrate(made)
    try:
        yield made
    finally:
        await made.dispose()
        if schema is not None:
            await drop_pg_schema(schema)


@pytest.fixture
async def store(engines: Engines) -> EventStore:
    """An event store on each backend."""
    return EventStore(engines)


@pytest.fixture
async def graph_client() -> AsyncIterator[tuple[FakeGraphApi, GraphMessenger]]:
    """A fake Graph API on 127.0.0.1 and a real client pointed at it (0.5 s timeout)."""
    fake = FakeGraphApi()
    base = await fake.start()
    async with aiohttp.ClientSession() as session:
        yield (
            fake,
            GraphMessenger(
                session,
                base_url=base,
                phone_number_id=fake.phone_number_id,
                access_token=fake.access_token,
                timeout=0.5,
            ),
        )
    await fake.close()


@pytest.fixture
def catalog() -> Catalog:
    """The demo catalogue the service ships with."""
    return load_catalog(None)


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """A running fake OpenAI server on 127.0.0.1."""
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.close()


OpenAIClients = Callable[..., AsyncOpenAI]


@asynccontextmanager
async def sdk_clients(fake: FakeOpenAI, http: str = "httpx") -> AsyncIterator[OpenAIClients]:
    """A factory of real SDK clients on ``fake`` over the ``http`` transport, closed after."""
    made: list[AsyncOpenAI] = []

    def build(*, timeout: float = 5.0, max_retries: int = 3) -> AsyncOpenAI:
        client = build_openai_client(
            api_key="sk-test",
            base_url=fake.base_url,
            timeout=timeout,
            max_retries=max_retries,
            http=http,
        )
        made.append(client)
        return client

    try:
        yield build
    finally:
        for client in made:
            await client.close()


@pytest.fixture
async def openai_clients(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAIClients]:
    """Builds real SDK clients on the fake (5 s timeout, 3 SDK retries unless told otherwise)."""
    async with sdk_clients(fake_openai) as build:
        yield build


def person_stream(phone: str) -> str:
    """The conversation stream of ``phone``'s person, as this process last met them.

    Streams are named by pseudonymous person ids (docs/adr/0007-crypto-shredding.md); a
    phone this process has not met keeps the name of a log written before them.
    """
    return "conversation-" + (latest_person_of(phone) or phone)
