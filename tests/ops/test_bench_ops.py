"""The operator-tools benchmark runs end to end with tiny counts (it measures nothing here)."""

from __future__ import annotations

import json

import pytest

from scripts import bench_ops

pytestmark = pytest.mark.integration


def test_bench_ops_reports_replay_and_audit(capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny run on SQLite prints one replay and one clean audit result."""
    argv = ["--events", "140", "--replay-events", "70", "--backends", "sqlite", "--json"]
    assert bench_ops.main(argv) in (0, 1)  # 1 only if the machine misses the replay goal
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["phase"] for r in results] == ["replay", "audit"]
    assert results[0]["events"] >= 70
    assert (results[1]["events"], results[1]["findings"]) == (140, 0)


def test_bench_ops_refuses_tiny_counts(capsys: pytest.CaptureFixture[str]) -> None:
    """Fewer events than one recorded turn is a usage error."""
    assert bench_ops.main(["--events", "3"]) == 2
    assert "at least 7" in capsys.readouterr().err
