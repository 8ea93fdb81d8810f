"""``dloop-bot login-link``: prints a link whose token is a short-lived admin token."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.auth.tokens import TokenRecord, TokenStore
from adapters.store.engine import create_engines
from scripts.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """DATABASE_URL of a fresh, migrated SQLite file for the command."""
    url = f"sqlite+aiosqlite:///{tmp_path}/links.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert main(["migrate"]) == 0
    capsys.readouterr()  # the tests read only their own command's output
    return url


def token_of(url: str, secret: str) -> TokenRecord:
    """The stored token for ``secret``."""

    async def check() -> TokenRecord:
        engines = create_engines(url)
        try:
            return await TokenStore(engines).authenticate(secret)
        finally:
            await engines.dispose()

    return asyncio.run(check())


def printed_link(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The printed link without its query, and its token."""
    line = capsys.readouterr().out.strip()
    parts = urlsplit(line)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)["token"][0]


def test_link_carries_a_fifteen_minute_admin_token(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default link points at the local dashboard with an admin token valid 15 minutes."""
    before = datetime.now(UTC)
    assert main(["login-link"]) == 0
    base, secret = printed_link(capsys)
    assert base == "http://127.0.0.1:8080/login"
    record = token_of(database, secret)
    assert record.role.value == "admin"
    assert record.expires_at is not None
    assert record.expires_at - before <= timedelta(minutes=15, seconds=5)


def test_base_url_and_minutes_are_honoured(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--base-url`` and ``--minutes`` shape the link and the expiry."""
    assert main(["login-link", "--base-url", "https://ops.example/", "--minutes", "2"]) == 0
    base, secret = printed_link(capsys)
    assert base == "https://ops.example/login"
    record = token_of(database, secret)
    assert record.expires_at is not None
    assert record.expires_at - record.created_at == timedelta(minutes=2)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--base-url", "ftp://host"], "--base-url must look like"),
        (["--minutes", "0"], "--minutes must be between"),
    ],
)
def test_bad_arguments_are_refused(
    database: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """Bad arguments exit 2 with a one-line message and create nothing."""
    assert main(["login-link", *argv]) == 2
    assert message in capsys.readouterr().err
