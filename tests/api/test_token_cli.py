"""``dloop-bot token``: create prints the secret once, list never does, revoke stops it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from adapters.auth.tokens import AuthError, TokenStore
from adapters.store.engine import create_engines
from scripts.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL of a fresh, migrated SQLite file for the command."""
    url = f"sqlite+aiosqlite:///{tmp_path}/tokens.db"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    return url


def authenticate(url: str, secret: str) -> str:
    """The role of ``secret`` (raises AuthError)."""

    async def check() -> str:
        engines = create_engines(url)
        try:
            return (await TokenStore(engines).authenticate(secret)).role.value
        finally:
            await engines.dispose()

    return asyncio.run(check())


def test_create_list_revoke(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The printed secret works until the token is revoked; list never shows it."""
    assert main(["token", "create", "--role", "dealer", "--dealer", "d-pet", "--label", "pet"]) == 0
    out = capsys.readouterr().out
    token_id = re.search(r"id:\s+(\S+)", out)
    secret = re.search(r"token:\s+(\S+)", out)
    assert token_id is not None
    assert secret is not None
    assert authenticate(database, secret[1]) == "dealer"
    assert main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert token_id[1] in listed
    assert "active" in listed
    assert secret[1] not in listed
    assert main(["token", "revoke", token_id[1]]) == 0
    with pytest.raises(AuthError):
        authenticate(database, secret[1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--role", "dealer"], "needs --dealer"),
        (["--role", "dealer", "--dealer", "d-nowhere"], "no dealer 'd-nowhere'"),
        (["--role", "admin", "--dealer", "d-pet"], "only for --role dealer"),
        (["--role", "support", "--expires-days", "0"], "at least 1"),
    ],
)
def test_create_refuses_bad_requests(
    database: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad role, dealer and expiry combinations exit 2 with a one-line reason."""
    assert main(["token", "create", *argv]) == 2
    assert message in capsys.readouterr().err


def test_revoking_an_unknown_token_fails(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown id is named in the error."""
    assert main(["token", "revoke", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
