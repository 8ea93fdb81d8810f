"""``dloop-bot eval-dialogue`` as a user runs it: dialogues replayed through the service."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "tests" / "fixtures" / "dialogues" / "dialogues_dev.json"


async def eval_dialogue(
    data: Path, *extra: str, **more_env: str
) -> tuple[int, dict[str, Any], str]:
    """Run the command on ``data``; its exit status, JSON report and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DLOOP_"))}
    env.update(more_env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripts.cli", "eval-dialogue", "--data", str(data), *extra,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    report = json.loads(out) if proc.returncode == 0 else {}
    return proc.returncode or 0, report, err.decode()


async def test_a_passing_and_a_failing_dialogue_are_told_apart(tmp_path: Path) -> None:
    """A right total passes; a wrong one is reported with what was sent and answered."""
    data = {
        "dialogues": [
            {"name": "right", "behaviour": "A", "phone": "+393409990001",
             "turns": [{"text": "vorrei 2 mozzarelle di bufala", "expect": {"total": "9,80"}}]},
            {"name": "wrong", "behaviour": "A", "phone": "+393409990002",
             "turns": [{"text": "vorrei 2 mozzarelle di bufala", "expect": {"total": "1,00"}}]},
        ]
    }  # fmt: skip
    path = tmp_path / "two.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    status, report, err = await eval_dialogue(path)
    assert status == 0, err
    assert (report["dialogues"], report["dialogues_passed"]) == (2, 1)
    assert (report["turns_checked"], report["turns_passed"]) == (2, 1)
    [failure] = report["failures"]
    assert (failure["dialogue"], failure["turn"]) == ("wrong", 0)
    assert failure["sent"] == "vorrei 2 mozzarelle di bufala"
    assert "9,80" in failure["replies"][-1]


async def test_a_malformed_file_exits_2_with_a_reason(tmp_path: Path) -> None:
    """Not a dialogue file: exit status 2 and a one-line reason, no report."""
    path = tmp_path / "bad.json"
    path.write_text('{"dialogues": [{"turns": []}]}', encoding="utf-8")
    status, _report, err = await eval_dialogue(path)
    assert status == 2
    assert "eval-dialogue:" in err
    assert "phone" in err


async def test_a_bad_clock_exits_2(tmp_path: Path) -> None:
    """``--now`` that is not ISO 8601 is refused."""
    status, _report, err = await eval_dialogue(DEV, "--now", "mercoledì")
    assert status == 2
    assert "eval-dialogue:" in err


async def assert_dialogues_pass(tmp_path: Path, extra_file: str, behaviours: str) -> None:
    """``behaviours`` of the dev set and of ``extra_file`` pass whole (offline)."""
    raw = json.loads(DEV.read_text(encoding="utf-8"))
    extra = json.loads((DEV.parent / extra_file).read_text(encoding="utf-8"))
    chosen = [d for d in raw["dialogues"] + extra["dialogues"] if d["behaviour"] in behaviours]
    path = tmp_path / extra_file
    path.write_text(json.dumps({"dialogues": chosen}, ensure_ascii=False), encoding="utf-8")
    status, report, err = await eval_dialogue(path)
    assert status == 0, err
    assert report["failures"] == []
    assert report["dialogues_passed"] == report["dialogues"] == len(chosen)


async def test_every_cart_dialogue_passes(tmp_path: Path) -> None:
    """Behaviours A, B, C and G of the dev set and of the extra set pass whole (offline)."""
    await assert_dialogues_pass(tmp_path, "cart_extra.json", "ABCG")


async def test_the_openai_engine_reads_every_customer_turn_through_the_server(
    tmp_path: Path,
) -> None:
    """``--engine openai``: the real SDK asks the configured server; the fake says chat."""
    turn = {"text": "vorrei 2 mozzarelle", "expect": {"total": "9,80"}}
    data = {
        "dialogues": [{"name": "llm", "behaviour": "A", "phone": "+393409990003", "turns": [turn]}]
    }
    path = tmp_path / "llm.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    fake = FakeOpenAI()
    base_url = await fake.start()
    try:
        status, report, err = await eval_dialogue(
            path, "--engine", "openai", OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=base_url
        )
    finally:
        await fake.close()
    assert status == 0, err
    assert fake.requests_to("chat")
    assert (report["dialogues"], report["dialogues_passed"]) == (1, 0)  # no cart from "chat"


async def test_the_openai_engine_without_a_key_exits_2(tmp_path: Path) -> None:
    """No OPENAI_API_KEY: a one-line reason, exit status 2."""
    status, _report, err = await eval_dialogue(DEV, "--engine", "openai")
    assert status == 2
    assert "OPENAI_API_KEY" in err
