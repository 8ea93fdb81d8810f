"""``bench e2e``'s account of where a run's time went: the loop's split, the helpers, the stages."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scripts.bench_e2e import PACING
from scripts.bench_e2e import main as bench_e2e
from scripts.bench_stages import percentiles, render, stage_gaps
from scripts.bench_where import SchedstatError, Where, WhereClock, parse_schedstat, thread_sched


def test_schedstat_is_read_as_seconds_ran_and_waited() -> None:
    """The kernel's nanoseconds become seconds; the slice count is not needed."""
    assert parse_schedstat("2500000000 500000000 1234\n") == (2.5, 0.5)


@pytest.mark.parametrize("raw", ["", "12 34", "1 2 three", "-1 2 3", "1 2 3 4"])
def test_a_malformed_schedstat_is_a_clear_error(raw: str) -> None:
    """Anything but three integers names the source and what it expected."""
    with pytest.raises(SchedstatError, match="expected three integers"):
        parse_schedstat(raw, "/proc/1/task/1/schedstat")


def test_a_process_that_is_gone_is_a_clear_error() -> None:
    """A pid with no /proc entry says which file it could not read."""
    with pytest.raises(SchedstatError, match="cannot read /proc/"):
        thread_sched(2**22 + 1)


def test_a_busy_thread_is_seen_working() -> None:
    """Spinning for 0.2 s of CPU adds that much to this thread's run time, not to idle.

    Spun by CPU time, not wall time: on a loaded machine a wall-clock spin of 0.2 s got
    only 0.09 s of a core, and the assertion on the driver's CPU failed.
    """
    clock = WhereClock(os.getpid(), {})
    started, cpu0 = time.monotonic(), time.process_time()
    while time.process_time() - cpu0 < 0.2:
        pass
    where = clock.stop(time.monotonic() - started)
    assert where.loop_on_cpu + where.loop_waiting > 0.8
    assert where.saturated
    assert where.helpers_cpu["driver"] > 0.1


def test_a_sleeping_thread_is_idle() -> None:
    """Sleeping 0.2 s is idle time: neither run nor waited for a core."""
    clock = WhereClock(os.getpid(), {})
    started = time.monotonic()
    time.sleep(0.2)
    where = clock.stop(time.monotonic() - started)
    assert where.loop_idle > 0.8
    assert not where.saturated


def test_the_split_renders_with_its_verdict() -> None:
    """The line names the three shares, the verdict and every helper's CPU."""
    where = Where(loop_on_cpu=0.5, loop_waiting=0.4, helpers_cpu={"driver": 0.3})
    assert where.render() == (
        "service loop: on CPU 50%, waiting for a core 40%, idle 10% (saturated); "
        "helpers' CPU: driver 0.30 s"
    )


def test_a_small_run_reports_the_loop_and_the_pacing_it_ran_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each run has the loop's shares and the helpers' CPU; the paced case is one switch away."""
    results = tmp_path / "results.json"
    argv = ["--customers", "3", "--messages", "2", "--warmup", "1", "--latency", "0.01"]
    argv += ["--debounce", "0.1", "--backends", "sqlite", "--json", str(results)]
    bench_e2e([*argv, "--compare", "WHATSAPP_PAIR_INTERVAL=6"])
    runs = json.loads(results.read_text())
    assert [r["variant"] for r in runs] == ["", "WHATSAPP_PAIR_INTERVAL=6"] * 2
    assert all(r["turns"] == 6 and r["lost"] == 0 for r in runs)
    assert all(0 < r["loop_on_cpu"] <= 1.05 and 0 <= r["loop_waiting"] <= 1 for r in runs)
    # Reported for every run; it may read 0 here: six turns can cost the helpers less CPU
    # than one clock tick (10 ms) of /proc's accounting.
    assert all(isinstance(r["helpers_cpu_ms_per_turn"], int | float) for r in runs)
    assert all(r["helpers_cpu_ms_per_turn"] >= 0 for r in runs)
    assert PACING == {"WHATSAPP_MESSAGES_PER_SECOND": "1000", "WHATSAPP_PAIR_INTERVAL": "0"}
    assert all(set(r["stages"]) == {"turn", "to outbox", "send"} for r in runs)
    assert all(0 < p50 <= p99 < 30 for r in runs for p50, p99 in r["stages"].values())
    out = capsys.readouterr().out
    assert "service loop: on CPU" in out
    assert "stages p50 / p99: turn " in out


T0 = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


def _at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def test_stages_are_the_gaps_within_each_stream() -> None:
    """Each stage runs from its opening event to the next closing one of the same stream."""
    rows = [
        ("conversation-a", "whatsapp.message_received", _at(0)),
        ("conversation-b", "whatsapp.message_received", _at(100)),
        ("conversation-a", "conversation.message_understood", _at(900)),
        ("conversation-a", "engine.turn_processed", _at(900)),
        ("conversation-b", "conversation.message_understood", _at(1300)),
        ("conversation-a", "outbox.attempted", _at(1400)),
        ("conversation-a", "conversation.outbound_sent", _at(1450)),
    ]
    gaps = stage_gaps(rows)
    assert gaps == {"turn": [0.9, 1.2], "to outbox": [0.5], "send": [0.05]}


def test_a_debounced_turn_counts_from_its_first_message() -> None:
    """Two messages answered as one turn: the stage opens at the first of them."""
    rows = [
        ("conversation-a", "whatsapp.message_received", _at(0)),
        ("conversation-a", "whatsapp.message_received", _at(700)),
        ("conversation-a", "conversation.message_understood", _at(2000)),
    ]
    assert stage_gaps(rows)["turn"] == [2.0]


def test_stage_percentiles_skip_stages_without_enough_turns() -> None:
    """p50 and p99 need two gaps; the line shows milliseconds."""
    stages = percentiles({"turn": [1.0, 2.0, 3.0], "send": [0.1]})
    assert stages == {"turn": (2.0, 2.98)}
    assert render(stages) == "stages p50 / p99: turn 2000 / 2980 ms"
