"""The operator subcommands end to end on a SQLite file: output, JSON and exit status."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.engine.order_runtime import shop_facts
from adapters.meta.sandbox import SandboxMessenger
from adapters.settings import load_settings
from adapters.store.engine import create_engines
from adapters.store.event_store import EventStore
from adapters.store.migrations import migrate
from core.business_facts import ShopFacts
from scripts.cli import main
from tests.ops.conftest import ANNA, JOURNEYS, Service

pytestmark = pytest.mark.integration


async def _record_journeys(url: str, shop: ShopFacts | None = None) -> None:
    engines = create_engines(url)
    await migrate(engines)
    service = Service(EventStore(engines), OfflineAssistant(), SandboxMessenger(), shop)
    try:
        for phone, texts in JOURNEYS.items():
            for text in texts:
                await service.say(phone, text)
    finally:
        await engines.dispose()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite file holding the three journeys, named by DATABASE_URL."""
    path = tmp_path / "ops.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_record_journeys(url))
    monkeypatch.setenv("DATABASE_URL", url)
    return path


def test_replay_prints_one_line_per_event(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The timeline ends with the comparison verdict; exit 0 when it matches."""
    assert main(["replay", "--phone", ANNA]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("replay conversation-prs_")
    assert out[0].endswith(": 15 events")
    assert out[-1] == "matches the projected row"


def test_replay_json_lists_the_steps(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives the steps with stage and change flags."""
    assert main(["replay", "--phone", ANNA, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["final_stage"] == "pending"
    assert sum(s["changed"] for s in doc["steps"]) == 2


def test_replay_refuses_a_malformed_phone(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and a one-line reason."""
    assert main(["replay", "--phone", "abc"]) == 2
    assert "'abc' is not a phone number" in capsys.readouterr().err


def test_audit_exits_zero_on_a_healthy_store(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The verdict line says OK."""
    assert main(["audit", "--grace", "0"]) == 0
    assert "audit: OK" in capsys.readouterr().out


def test_audit_exits_one_and_names_the_finding(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deleted message row: exit 1, the JSON names the projections check."""
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM whatsapp_messages WHERE direction = 'outbound'")
    assert main(["audit", "--json", "--grace", "0"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert not doc["ok"]
    assert {f["check"] for f in doc["findings"]} == {"projections"}


def test_what_if_exits_zero_when_rules_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Today's offline rules, with the settings' business facts, decide the turns alike."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    asyncio.run(_record_journeys(url, shop_facts(load_settings({}))))  # as the service runs
    monkeypatch.setenv("DATABASE_URL", url)
    capsys.readouterr()  # the recording's own log lines
    assert main(["what-if", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["turns"], doc["differences"]) == (5, [])


def test_export_writes_the_document_to_a_file(database: Path, tmp_path: Path) -> None:
    """--out writes JSON naming the subject."""
    out = tmp_path / "anna.json"
    assert main(["export", "--phone", ANNA, "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["subject"]["phone"] == ANNA


def test_retention_dry_run_reports_without_dropping(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bodies recorded today are within 90 days: nothing to drop."""
    assert main(["retention", "--dry-run", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["dry_run"], doc["bodies"]) == (True, 0)


def test_retention_refuses_zero_days(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 and a one-line reason."""
    assert main(["retention", "--days", "0"]) == 2
    assert "--days must be at least 1" in capsys.readouterr().err


def test_rebuild_reports_rows_per_projection_and_one_pass(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``dloop-bot rebuild``: one line of rows per projection, then the pass's total."""
    assert main(["rebuild"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("whatsapp_conversations: 3 rows")
    assert out[-1].startswith("rebuilt 5 projection(s) from ")
    assert main(["rebuild", "--projection", "review_queue", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["projection"] == "review_queue"


def test_erase_then_replay_and_audit_still_run(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`erase --phone` removes every readable trace; replay and audit still pass."""
    assert main(["erase", "--phone", "328 123 4567", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stream"].startswith("conversation-prs_")
    blob = b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
    assert ANNA.removeprefix("+").encode() not in blob
    assert b"crocchette per cane e una lettiera" not in blob
    assert main(["replay", "--stream", report["stream"]]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "matches the projected row"
    assert main(["audit", "--grace", "0"]) == 0
    assert main(["erase", "--phone", ANNA]) == 2  # nothing left to erase
