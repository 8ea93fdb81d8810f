"""``bench e2e``'s CPU per turn, py-spy profile and A/B switch; the profile's report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.settings import SettingsError, load_settings
from scripts.bench_e2e import main as bench_e2e
from scripts.bench_llm_http import main as bench_llm_http
from scripts.bench_profile import main as profile_main
from scripts.bench_profile import report
from scripts.cmd_serve import new_event_loop


def test_a_small_e2e_run_profiles_the_service_and_compares_a_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each case runs plain and with the --compare setting; CPU and a profile are taken."""
    profile, results = tmp_path / "serve.txt", tmp_path / "results.json"
    argv = ["--customers", "3", "--messages", "2", "--warmup", "1", "--latency", "0.01"]
    argv += ["--debounce", "0.1", "--backends", "sqlite", "--compare", "EVENT_LOOP=asyncio"]
    bench_e2e([*argv, "--profile", str(profile), "--json", str(results)])
    runs = json.loads(results.read_text())
    assert [(r["variant"], r["debounce"]) for r in runs] == [
        ("", 0.0),
        ("EVENT_LOOP=asyncio", 0.0),
        ("", 0.1),
        ("EVENT_LOOP=asyncio", 0.1),
    ]
    assert all(r["turns"] == 6 and r["lost"] == 0 and r["cpu_ms_per_turn"] > 0 for r in runs)
    assert "EVENT_LOOP=asyncio" in capsys.readouterr().out
    assert profile.stat().st_size > 0
    assert "top costs" in report(profile, turns=6, cpu_ms=runs[0]["cpu_ms_per_turn"])


def test_compare_without_a_value_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """``--compare EVENT_LOOP`` (no ``=``) exits 2 and says what it takes."""
    assert bench_e2e(["--compare", "EVENT_LOOP", "--backends", "sqlite"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().out


def test_the_report_drops_waiting_samples_and_scales_to_the_cpu(tmp_path: Path) -> None:
    """Idle waits are left out; the rest are shares of the measured CPU per turn."""
    raw = tmp_path / "raw.txt"
    raw.write_text(
        "_connection_worker_thread (aiosqlite/core.py:59) 900\n"
        "_connection_worker_thread (aiosqlite/core.py:63) 30\n"
        "run (scripts/cmd_serve.py:9);_chat (adapters/assistant/openai_assistant.py:9);"
        "post (openai/_base_client.py:1) 10\n"
        "run (scripts/cmd_serve.py:9);dumps (json/__init__.py:1) 10\n"
    )
    text = report(raw, turns=10, cpu_ms=5.0)
    assert "50 working samples" in text
    assert "3.000   60.0%  SQLite executing statements" in text
    assert "1.000   20.0%  OpenAI SDK and httpx per assistant call" in text
    assert "1.000   20.0%  JSON through the standard library" in text


def test_the_report_refuses_a_missing_file(tmp_path: Path) -> None:
    """A profile path that is not there is a usage error, not a traceback."""
    with pytest.raises(SystemExit) as exit_:
        profile_main([str(tmp_path / "none.txt"), "--turns", "5", "--cpu-ms", "1"])
    assert exit_.value.code == 2


def test_event_loop_setting_is_checked() -> None:
    """EVENT_LOOP takes uvloop (the default) or asyncio; anything else names the choices."""
    assert load_settings({}).event_loop == "uvloop"
    assert load_settings({"EVENT_LOOP": "asyncio"}).event_loop == "asyncio"
    with pytest.raises(SettingsError, match="EVENT_LOOP must be one of uvloop, asyncio"):
        load_settings({"EVENT_LOOP": "trio"})


def test_serve_builds_the_loop_it_is_told() -> None:
    """``uvloop`` gives a libuv loop, ``asyncio`` the standard selector loop."""
    for kind, module in (("uvloop", "uvloop"), ("asyncio", "asyncio")):
        loop = new_event_loop(kind)
        try:
            assert type(loop).__module__.split(".")[0] == module
        finally:
            loop.close()


def test_the_llm_transport_bench_measures_both(capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny run prints a CPU figure per transport and their ratio."""
    assert bench_llm_http(["--calls", "4", "--rounds", "1", "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "httpx" in out
    assert "aiohttp / httpx = " in out


def test_the_llm_transport_bench_refuses_zero_calls() -> None:
    """``--calls 0`` is a usage error."""
    with pytest.raises(SystemExit) as exit_:
        bench_llm_http(["--calls", "0"])
    assert exit_.value.code == 2
