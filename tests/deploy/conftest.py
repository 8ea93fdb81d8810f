"""Fixtures for the deployment tests: the files in ``deploy/`` and empty PostgreSQL databases."""

from __future__ import annotations

import asyncio
import configparser
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from scripts.bench_e2e import PG_ADMIN_URL, drop_database
from tests.conftest import IN_CI
from tests.support.process import DLOOP_BOT

DEPLOY = Path(__file__).parents[2] / "deploy"
INSTALLED = "/opt/dloop/.venv/bin/dloop-bot"  # where docs/deploy.md installs the command


@dataclass(frozen=True, slots=True)
class Unit:
    """What a systemd unit would run: its command line and its own environment."""

    exec_start: list[str]
    environment: dict[str, str]

    def command(self, instance: str = "") -> list[str]:
        """ExecStart with the instance (%i) filled and our installed command in place."""
        return [DLOOP_BOT if w == INSTALLED else w.replace("%i", instance) for w in self.exec_start]


def unit(name: str) -> Unit:
    """Read ``deploy/systemd/<name>`` (the [Service] section)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    service = parser["Service"]
    env = dict(line.split("=", 1) for line in service.get("Environment", "").split() if line)
    return Unit(exec_start=service["ExecStart"].split(), environment=env)


def libpq(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq tools (pg_dump, psql) spell it."""
    return re.sub(r"^postgresql\+asyncpg://", "postgresql://", url)


async def _create_empty() -> str:
    name = f"dloop_deploy_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return (
        PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        + "/"
        + name
    )


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A new, empty (not migrated) PostgreSQL database, dropped afterwards."""
    try:
        url = asyncio.run(_create_empty())
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield url
    asyncio.run(drop_database(url))
