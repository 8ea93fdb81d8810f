"""``dloop-bot eval-nlu`` as a user runs it: offline, and against an OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from adapters.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "tests" / "fixtures" / "nlu_dev.jsonl"


async def _cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scripts.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(extra)
    return env


async def test_offline_engine_meets_the_floors_on_the_dev_set() -> None:
    """The printed report carries the three figures at or above the floors."""
    code, out, _ = await _cli("eval-nlu", "--data", str(DEV), env=_env())
    report = json.loads(out)
    assert code == 0
    assert report["intent_accuracy"] >= 0.95
    assert report["cart_exact_match"] >= 0.90
    assert report["inquiry_top3_recall"] >= 0.95


async def test_openai_engine_without_a_key_says_so_in_one_line() -> None:
    """No key: exit 2 with a message naming OPENAI_API_KEY."""
    code, _, err = await _cli("eval-nlu", "--data", str(DEV), "--engine", "openai", env=_env())
    assert code == 2
    assert "OPENAI_API_KEY" in err
    assert "Traceback" not in err


async def test_openai_engine_asks_the_configured_server_once_per_line() -> None:
    """With OPENAI_BASE_URL the real SDK talks to our local server, one request per case."""
    fake = FakeOpenAI()
    base_url = await fake.start()
    try:
        code, out, err = await _cli(
            "eval-nlu",
            "--data",
            str(DEV),
            "--engine",
            "openai",
            env=_env(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=base_url, LLM_MODEL="gpt-4o-mini"),
        )
    finally:
        await fake.close()
    assert code == 0, err
    report = json.loads(out)
    assert report["cases"] == 50
    assert len(fake.requests_to("chat")) == 50
    assert report["confusion"]["general_chat"]["general_chat"] == 11  # the fake always says chat
