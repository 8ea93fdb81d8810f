"""``dloop-bot eval-dialogue`` on the checkout behaviours: business facts, checkout, status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_eval_dialogue_cli import ROOT, assert_dialogues_pass, eval_dialogue

pytestmark = pytest.mark.e2e


async def test_every_checkout_dialogue_passes(tmp_path: Path) -> None:
    """Behaviours D, E and F of the dev set and of the checkout extra set pass whole (offline)."""
    await assert_dialogues_pass(tmp_path, "checkout_extra.json", "DEF")


@pytest.mark.parametrize("name", ["heldout_s5.json", "heldout_s7.json", "followup_s7.json"])
async def test_every_held_out_dialogue_passes(name: str) -> None:
    """Each held-out set (all behaviours, wordings unlike the dev set's) passes whole."""
    path = ROOT / "tests" / "fixtures" / "dialogues" / name
    count = len(json.loads(path.read_text(encoding="utf-8"))["dialogues"])
    status, report, err = await eval_dialogue(path)
    assert status == 0, err
    assert report["failures"] == []
    assert report["dialogues_passed"] == report["dialogues"] == count
