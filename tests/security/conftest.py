"""A service with tokens for every role, a live dashboard session and known data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.auth.session import Session, Sessions
from adapters.auth.tokens import Role, TokenStore
from tests.api.conftest import Api, api, talked  # noqa: F401 - the fixtures are reused here
from tests.e2e.conftest import make_service  # noqa: F401 - the fixture is reused here
from tests.engine.conftest import graph, spawn  # noqa: F401 - subprocess fixtures reused
from tests.faults.conftest import fake_graph, wire  # noqa: F401 - the fixtures are reused

DASHBOARD_TOKEN = "dashboard-simulate-token"


@dataclass
class Keys:
    """Credentials beyond the role tokens: bad ones and a cookie session with its CSRF."""

    expired: str
    revoked: str
    session: Session


@pytest.fixture
async def keys(talked: Api) -> Keys:  # noqa: F811 - the fixture
    """An expired and a revoked admin token, an admin dashboard session; /simulate locked."""
    talked.deps.settings = dataclasses.replace(
        talked.deps.settings, dashboard_token=DASHBOARD_TOKEN
    )
    engines = talked.deps.engines
    past = TokenStore(engines, clock=lambda: datetime.now(UTC) - timedelta(days=2))
    _, expired = await past.create(Role.ADMIN, label="old", expires_in=timedelta(days=1))
    tokens = TokenStore(engines)
    record, revoked = await tokens.create(Role.ADMIN, label="leaver")
    await tokens.revoke(record.id)
    session = await Sessions(tokens).open(talked.secrets["admin"], consume=False)
    return Keys(expired=expired, revoked=revoked, session=session)
