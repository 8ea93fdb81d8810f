"""Backups as docs/deploy.md takes them, restored and passing ``dloop-bot audit``.

SQLite: ``sqlite3 DB ".backup FILE"`` while ``dloop-bot serve`` is running and taking
messages. PostgreSQL: ``pg_dump -Fc`` then ``pg_restore`` into a new, empty database.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest

from scripts.bench_e2e import PG_ADMIN_URL
from tests.deploy.conftest import libpq
from tests.ops.conftest import ANNA
from tests.ops.test_cli import _record_journeys
from tests.support.process import DLOOP_BOT, base_env, run, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SQLITE3, PG_DUMP, PG_RESTORE = (shutil.which(t) for t in ("sqlite3", "pg_dump", "pg_restore"))


def simulate(base: str, phone: str, text: str) -> int:
    """POST one /simulate message (no wait); the HTTP status."""
    body = json.dumps({"from": phone, "text": text}).encode()
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        f"{base}/simulate", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
        return int(answer.status)


def audit(database_url: str, folder: Path, *grace: str) -> tuple[int, str]:
    """``dloop-bot audit [--grace S]`` on ``database_url``: (status, output)."""
    command = [DLOOP_BOT, "audit", *grace]
    done = run(command, base_env(DATABASE_URL=database_url), folder)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.skipif(SQLITE3 is None, reason="the sqlite3 shell is not installed")
def test_a_sqlite_backup_taken_while_serving_restores_and_audits(tmp_path: Path) -> None:
    """.backup during traffic; the copy audits clean and replays a customer.

    Audited as docs/deploy.md says, with the default grace: a copy taken mid-turn may hold
    a reply queued a moment before and not yet sent, which the restored service sends;
    the audit counts it in flight, as it does on the live database.
    """
    live = tmp_path / "live.db"
    url = f"sqlite+aiosqlite:///{live}"
    asyncio.run(_record_journeys(url))
    env = base_env(DATABASE_URL=url)
    backup = tmp_path / "backup.db"
    with running([DLOOP_BOT, "serve"], env, tmp_path) as base:
        traffic = threading.Thread(
            target=lambda: [simulate(base, "+393401112233", f"Ciao {n}") for n in range(10)]
        )
        traffic.start()
        done = run([str(SQLITE3), str(live), f".backup '{backup}'"], env, tmp_path)
        traffic.join()
    assert done.returncode == 0, done.stderr
    restored = tmp_path / "restored" / "dloop.db"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    status, output = audit(f"sqlite+aiosqlite:///{restored}", tmp_path)
    assert status == 0, output
    assert "audit: OK" in output
    replay = run(
        [DLOOP_BOT, "replay", "--phone", ANNA],
        base_env(DATABASE_URL=f"sqlite+aiosqlite:///{restored}"),
        tmp_path,
    )
    assert replay.returncode == 0, replay.stderr


@pytest.mark.postgres
@pytest.mark.skipif(PG_DUMP is None or PG_RESTORE is None, reason="pg_dump is not installed")
def test_a_pg_dump_restores_into_an_empty_database_and_audits(
    empty_pg: str, tmp_path: Path
) -> None:
    """pg_dump -Fc of a live database, pg_restore into a new one, audit OK."""
    asyncio.run(_record_journeys(empty_pg))
    dump = tmp_path / "dloop.dump"
    env = base_env()
    dumped = run([str(PG_DUMP), "-Fc", "-f", str(dump), libpq(empty_pg)], env, tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    target = empty_pg + "_restored"
    name = target.rsplit("/", 1)[1]
    admin = PG_ADMIN_URL
    assert run(["psql", admin, "-c", f'CREATE DATABASE "{name}"'], env, tmp_path).returncode == 0
    try:
        restored = run(
            [str(PG_RESTORE), "--no-owner", "-d", libpq(target), str(dump)], env, tmp_path
        )
        assert restored.returncode == 0, restored.stderr
        status, output = audit(target, tmp_path, "--grace", "0")  # a quiet database
        assert status == 0, output
        assert "audit: OK" in output
    finally:
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        run(["psql", admin, "-c", drop], env, tmp_path)
