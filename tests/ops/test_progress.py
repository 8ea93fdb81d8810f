"""Progress bars: drawn on a terminal (a pseudo-terminal here), absent when piped or --json."""

from __future__ import annotations

import asyncio
import os
import pty
import sqlite3
import subprocess
import sys

import pytest

from tests.ops.test_cli import _record_journeys

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BAR = "━"  # rich's bar glyph


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DATABASE_URL of a SQLite file holding the three journeys."""
    path = tmp_path_factory.mktemp("progress") / "ops.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_record_journeys(url))
    return url


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "TERM", "CI"}}
    return {**env, "DATABASE_URL": url, "TERM": "xterm-256color", "COLUMNS": "100"}


def on_a_terminal(url: str, *argv: str) -> tuple[int, str]:
    """Run ``dloop-bot argv`` with stderr on a pseudo-terminal; (status, what it showed)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(  # noqa: S603 - our own command line, fixed arguments
        [sys.executable, "-m", "scripts.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=_env(url),
    )
    os.close(follower)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return proc.wait(timeout=120), shown.decode("utf-8", "replace")


def piped(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``dloop-bot argv`` with both outputs piped."""
    return subprocess.run(  # noqa: S603 - our own command line, fixed arguments
        [sys.executable, "-m", "scripts.cli", *argv],
        capture_output=True,
        text=True,
        env=_env(url),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", ["rebuild", "audit"])
def test_a_terminal_gets_a_bar(database: str, command: str) -> None:
    """rebuild and audit draw a labelled bar that reaches the last position."""
    status, shown = on_a_terminal(database, command, *(["--grace", "0"] * (command == "audit")))
    assert status == 0, shown
    assert command in shown
    assert BAR in shown


@pytest.mark.parametrize("command", ["rebuild", "audit"])
def test_a_pipe_gets_no_bar(database: str, command: str) -> None:
    """Piped stderr stays empty: no bar, no escape codes; stdout keeps the report."""
    done = piped(database, command, *(["--grace", "0"] * (command == "audit")))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip()


def test_json_on_a_terminal_gets_no_bar(database: str) -> None:
    """--json asks for machine output: nothing is drawn even on a terminal."""
    status, shown = on_a_terminal(database, "audit", "--json", "--grace", "0")
    assert status == 0
    assert BAR not in shown
    assert "audit" not in shown


def test_the_bar_counts_positions_of_the_log(database: str) -> None:
    """The bar's count ends at the log's last position (N/N)."""
    path = database.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as conn:
        last = conn.execute("SELECT max(position) FROM events").fetchone()[0]
    _, shown = on_a_terminal(database, "rebuild")
    assert f"{last}/{last}" in shown
