"""``dloop-bot eval-dialogue`` as a user runs it: dialogues replayed through the service."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "tests" / "fixtures" / "dialogues" / "dialogues_dev.json"


async def eval_dialogue(data: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    """Run the command on ``data``; its exit status, JSON report and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DLOOP_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripts.cli", "eval-dialogue", "--data", str(data), *extra,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    report = json.loads(out) if proc.returncode == 0 else {}
    return proc.returncode or 0, report, err.decode()


def dev_subset(tmp_path: Path, names: set[str]) -> Path:
    """A file with the named dialogues of the development set."""
    raw = json.loads(DEV.read_text(encoding="utf-8"))
    chosen = [d for d in raw["dialogues"] if d["name"] in names]
    assert len(chosen) == len(names)
    path = tmp_path / "subset.json"
    path.write_text(json.dumps({"dialogues": chosen}, ensure_ascii=False), encoding="utf-8")
    return path


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
