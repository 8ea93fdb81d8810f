"""The pure packages read no clock, no randomness, no environment and do no I/O.

import-linter guards the third-party I/O libraries; this test guards the standard
library, which import-linter cannot see.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ("events", "core", "projections")
FORBIDDEN_MODULES = {
    "random",
    "secrets",
    "socket",
    "subprocess",
    "os",
    "time",
    "asyncio",
    "threading",
    "io",
    "pathlib",
    "shutil",
}
FORBIDDEN_CALLS = {
    "now",
    "utcnow",
    "today",
    "uuid1",
    "uuid4",
    "open",
    "getenv",
    "perf_counter",
    "monotonic",
}


def _pure_files() -> list[Path]:
    return sorted(p for pkg in PURE for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_uses_no_clock_randomness_or_io(path: Path) -> None:
    """No forbidden import or call appears in a pure module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                problems.append(node.module)
        elif isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if name in FORBIDDEN_CALLS:
                problems.append(f"{name}() at line {node.lineno}")
    assert not problems, f"{path.name}: {problems}"
