"""The benchmarks run end to end with tiny counts (they measure nothing here)."""

from __future__ import annotations

import json

import pytest

from scripts import bench_ingest, bench_store
from scripts.cli import main as cli_main

pytestmark = pytest.mark.integration


def test_bench_store_runs_every_phase_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    """A 200-event store run prints one JSON row per phase with both libraries' rates."""
    assert bench_store.main(["--events", "200", "--backends", "sqlite", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["phase"] for r in rows] == ["single", "group", "bulk", "read"]
    assert all(r["ours"] > 0 and r["eventsourcing"] > 0 for r in rows)


@pytest.mark.slow  # three servers in subprocesses: about 12 s
def test_bench_ingest_loses_nothing_it_acknowledged(capsys: pytest.CaptureFixture[str]) -> None:
    """A short ingest run against every server records each delivery answered 200."""
    argv = ["--duration", "0.3", "--connections", "4", "--deliveries", "200", "--json"]
    assert bench_ingest.main(argv) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["server"] for r in results] == list(bench_ingest.TARGETS)
    assert all(r["ok"] > 0 and r["ok"] == r["recorded"] and r["lost"] == 0 for r in results)


def test_cli_dispatches_bench_store(capsys: pytest.CaptureFixture[str]) -> None:
    """``dloop-bot bench store ...`` passes its options through to the benchmark."""
    assert cli_main(["bench", "store", "--events", "50", "--backends", "sqlite"]) == 0
    assert "read back, decoded" in capsys.readouterr().out


def test_bench_rebuild_runs_and_both_paths_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench rebuild`` with a tiny log: every phase reported, the two paths' tables equal."""
    argv = ["--events", "1500", "--baseline-events", "600", "--backends", "sqlite", "--json"]
    cli_main(["bench", "rebuild", *argv])  # the exit status says whether the goal was met
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["phase"] for r in rows] == [
        "baseline: per-projection runners",
        "baseline: rebuild_all",
        "generate",
        "rebuild",
    ]
    assert rows[1]["identical"] is True
    assert rows[3]["events"] == 1500
    assert rows[3]["rows"] > 0


def test_bench_api_answers_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench api`` with 300 conversations: every scenario measured over HTTP."""
    argv = ["--conversations", "300", "--requests", "5", "--search-requests", "2"]
    cli_main(["bench", "api", *argv, "--warmup", "1", "--backends", "sqlite", "--json"])
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [r["scenario"] for r in rows][:2] == ["healthz (baseline)", "list"]
    assert len(rows) == 9  # healthz, list, deep pages, three filters, three searches
    assert all(r["p50_ms"] > 0 for r in rows)


def test_bench_turns_reports_every_history_size(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench turns`` with tiny histories: one row per size and mode, and a verdict."""
    argv = ["--history", "0,60", "--turns", "3", "--backends", "sqlite", "--refold"]
    cli_main(["bench", "turns", *argv])  # the exit status says whether the goal was met
    out = capsys.readouterr().out
    assert out.count("kept   history") == 2
    assert out.count("refold history") == 2
    assert "largest history / empty CPU per turn" in out


@pytest.mark.slow  # a service and the fake Graph API in subprocesses: about 10 s
def test_bench_flood_records_and_processes_a_small_burst(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``bench flood`` with 40 messages: all recorded and processed, nothing parked."""
    argv = ["--messages", "40", "--senders", "2", "--backends", "sqlite", "--settle", "0.2"]
    cli_main(["bench", "flood", *argv])  # the ack-rate goal is not the point here
    out = capsys.readouterr().out
    assert "40 messages (0 refused)" in out
    assert "40 recorded" in out
    assert "0 handler failures, 0 parked" in out


@pytest.mark.slow  # a service in a subprocess, the fake Graph API down for 6 s: about 15 s
@pytest.mark.parametrize("fault", ["5xx", "refused"])
def test_bench_outage_sends_every_reply_once_after_a_short_outage(
    fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bench outage``, 3 customers, 6 s down: every reply once, in order, none for review."""
    argv = ["--customers", "3", "--every", "2", "--before", "2", "--down", "6", "--after", "2"]
    argv += ["--backends", "sqlite", "--wait", "30", "--fault", fault]
    argv += ["--env", "SEND_RETRY_CAP=1", "--env", "WHATSAPP_PAIR_INTERVAL=1"]  # scaled down
    status = cli_main(["bench", "outage", *argv])
    out = capsys.readouterr().out
    assert "0 twice, 0 missing, 0 unknown sends, 0 people out of order, 0 for review" in out
    assert " 0 retries scheduled" not in out  # the outage outlasted the quick attempts
    assert "0 not answered 200" in out
    assert status == 0, out
