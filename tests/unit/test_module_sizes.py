"""No module over 400 lines in the pure packages and the shell (issue 14, item 8).

Fakes are exempt: they copy an outside system's surface, not our concerns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
CHECKED = ("core", "events", "projections", "adapters")


def _modules() -> list[Path]:
    found = [p for pkg in CHECKED for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in found if "fakes" not in p.relative_to(ROOT).parts]


def test_the_rule_sees_the_packages() -> None:
    """The walk finds modules in every checked package (so the rule cannot hold vacuously)."""
    seen = {p.relative_to(ROOT).parts[0] for p in _modules()}
    assert seen == set(CHECKED)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_limit(path: Path) -> None:
    """A module that grows past 400 lines is split along its concerns."""
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= LIMIT, f"{path.relative_to(ROOT)}: {lines} lines"
