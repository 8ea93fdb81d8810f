"""``dloop-bot eval-dialogue`` on the checkout behaviours: business facts, checkout, status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_eval_dialogue_cli import assert_dialogues_pass

pytestmark = pytest.mark.e2e


async def test_every_checkout_dialogue_passes(tmp_path: Path) -> None:
    """Behaviours D, E and F of the dev set and of the checkout extra set pass whole (offline)."""
    await assert_dialogues_pass(tmp_path, "checkout_extra.json", "DEF")
