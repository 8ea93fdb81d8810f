"""``dloop-bot eval-dialogue`` on the checkout behaviours: business facts, checkout, status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_eval_dialogue_cli import DEV, eval_dialogue

pytestmark = pytest.mark.e2e


async def test_every_checkout_dialogue_passes(tmp_path: Path) -> None:
    """Behaviours D, E and F of the dev set and of the checkout extra set pass whole (offline)."""
    raw = json.loads(DEV.read_text(encoding="utf-8"))
    extra = json.loads((DEV.parent / "checkout_extra.json").read_text(encoding="utf-8"))
    chosen = [d for d in raw["dialogues"] + extra["dialogues"] if d["behaviour"] in "DEF"]
    path = tmp_path / "checkout.json"
    path.write_text(json.dumps({"dialogues": chosen}, ensure_ascii=False), encoding="utf-8")
    status, report, err = await eval_dialogue(path)
    assert status == 0, err
    assert report["failures"] == []
    assert report["dialogues_passed"] == report["dialogues"] == len(chosen)
