"""Manners shared by every ``dloop-bot`` command: no database created by mistake, one-line
refusals naming what was looked for, headers on tables, a version, and ``.env`` read under
the environment."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest

from scripts.cli import main
from tests.conftest import IN_CI, PG_URL, _pg_available

pytestmark = pytest.mark.integration
UNKNOWN = "+393330000999"

# Every command that reads or writes an existing database, with arguments that would
# otherwise be valid.
READERS = [
    ["token", "list"],
    ["replay", "--phone", UNKNOWN],
    ["export", "--phone", UNKNOWN],
    ["erase", "--phone", UNKNOWN],
    ["audit"],
    ["rebuild"],
    ["retention", "--dry-run"],
    ["what-if"],
    ["reprocess"],
    ["devices", "list"],
    ["login-link"],
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with no database and no .env, as the current folder; DATABASE_URL unset."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty, migrated SQLite file named by DATABASE_URL."""
    path = tmp_path / "fresh.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    assert main(["migrate"]) == 0
    return path


@pytest.mark.parametrize("argv", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_default_database_is_refused_and_not_created(
    elsewhere: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Run from the wrong folder: exit 2, one line naming the path, no var/ left behind."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"no database at {elsewhere / 'var' / 'dloop.db'}" in err[0]
    assert "dloop-bot migrate" in err[0]
    assert not (elsewhere / "var").exists()


def test_catalog_import_refuses_a_missing_database(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Imports too: the named absolute path is not created."""
    target = elsewhere / "nowhere" / "x.db"
    (elsewhere / "c.json").write_text('{"dealers": [], "products": []}', encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{target}")
        assert main(["catalog", "import", "c.json"]) == 2
    assert f"no database at {target}" in capsys.readouterr().err
    assert not target.parent.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("argv", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_postgresql_database_is_one_line_naming_it(
    elsewhere: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL URL naming no database: exit 2, one line with the URL, no traceback."""
    problem = asyncio.run(_pg_available())
    if problem is not None and not IN_CI:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {problem}")
    name = f"h_missing_{uuid.uuid4().hex[:10]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"{PG_URL.rsplit('/', 1)[0]}/{name}")
        assert main(argv) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("dloop-bot: database error at postgresql+asyncpg://")
    assert f'/{name}: database "{name}" does not exist' in line
    assert "createdb" in line


def test_migrate_may_create_the_database(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``migrate`` is the command that creates it (relative to the current folder)."""
    assert main(["migrate"]) == 0
    assert (elsewhere / "var" / "dloop.db").is_file()
    assert capsys.readouterr().out.startswith("migrate: ")


@pytest.mark.parametrize(
    "argv",
    [["replay", "--phone", UNKNOWN], ["export", "--phone", UNKNOWN], ["erase", "--phone", UNKNOWN]],
    ids=lambda a: a[0],
)
@pytest.mark.usefixtures("migrated")
def test_an_unknown_phone_exits_non_zero_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing recorded about the number: exit 2, one stderr line, nothing on stdout."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert line.startswith("dloop-bot: ")
    assert re.search(r"nothing|no person", line)


@pytest.mark.usefixtures("migrated")
def test_replay_of_an_unknown_order_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """An order id with no events is not an empty success."""
    assert main(["replay", "--order", "r-does-not-exist"]) == 2
    assert "nothing is recorded for --order r-does-not-exist" in capsys.readouterr().err


@pytest.mark.usefixtures("migrated")
def test_token_list_prints_headers_then_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """The first line names the columns; each token is one row below it."""
    assert main(["token", "create", "--role", "support", "--label", "desk"]) == 0
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["ID", "ROLE", "DEALER", "STATE", "EXPIRES", "LABEL"]
    assert row.split()[1:] == ["support", "-", "active", "never", "desk"]


@pytest.mark.usefixtures("migrated")
def test_token_list_of_none_says_so_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """No tokens: a hint on stderr, stdout empty (so scripts see no rows)."""
    assert main(["token", "list"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, "token create" in captured.err) == ("", True)


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints pyproject's version (one place) and exits 0."""
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE)
    assert declared is not None
    assert capsys.readouterr().out.strip() == f"dloop-bot {declared[1]}"


@pytest.mark.usefixtures("migrated")
def test_migrate_records_the_partition_count_and_refuses_another(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """16 recorded by the first migrate; DLOOP_PARTITIONS=32 later: exit 2, one clear line."""
    capsys.readouterr()
    monkeypatch.setenv("DLOOP_PARTITIONS", "32")
    assert main(["migrate"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "DLOOP_PARTITIONS is 32 but this database was partitioned into 16" in line
    assert "set DLOOP_PARTITIONS=16" in line
