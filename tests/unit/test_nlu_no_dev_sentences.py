"""The NLU generalises by rules: no dev-set message is written into the code (issue 19).

Every string literal of every Python module of the service (``core/``, ``adapters/``,
``events/``, ``projections/``, ``scripts/``; implicit
concatenations joined, as the compiler joins them) is compared, folded, with the texts
of ``nlu_dev.jsonl`` and ``nlu_dev_hard.jsonl``; data files there are searched whole.
Messages of one or two words (``Ciao!``, ``👍``, ``ok perfetto``) are everyday words a
reply template may well say, and are not sentences to copy: they are left out.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest

from core.nlu.evaluate import parse_jsonl

ROOT = Path(__file__).resolve().parents[2]
DEV_SETS = ("nlu_dev.jsonl", "nlu_dev_hard.jsonl")
SCANNED = ("core", "adapters", "events", "projections", "scripts")
FRAGMENT = 24  # a literal this long found inside a dev message is a copied fragment
MIN_WORDS = 3


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain).strip()


@lru_cache(maxsize=1)
def _dev_texts() -> tuple[str, ...]:
    texts: list[str] = []
    for name in DEV_SETS:
        lines = (ROOT / "tests" / "fixtures" / name).read_text("utf-8").splitlines()
        folded = (_fold(case.text) for case in parse_jsonl(lines))
        texts.extend(text for text in folded if len(text.split()) >= MIN_WORDS)
    return tuple(texts)


def _literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    return [
        _fold(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _copied(literal: str) -> list[str]:
    """The dev messages ``literal`` contains, or that contain it when it is long."""
    return [
        text
        for text in _dev_texts()
        if text in literal or (len(literal) >= FRAGMENT and literal in text)
    ]


def _modules() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py"))


def _data_files() -> list[Path]:
    suffixes = {".json", ".jsonl", ".txt", ".csv", ".md"}
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*") if p.suffix in suffixes)


def test_both_dev_sets_are_read() -> None:
    """The guard has something to guard: both files, more than a hundred messages."""
    assert len(_dev_texts()) > 100


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_holds_a_dev_message(path: Path) -> None:
    """No string literal contains a dev message or a long piece of one."""
    found = {text for literal in _literals(path) for text in _copied(literal)}
    assert not found, f"{path.relative_to(ROOT)} copies dev-set messages: {sorted(found)}"


@pytest.mark.parametrize("path", _data_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_data_file_holds_a_dev_message(path: Path) -> None:
    """Catalogue and other data files do not contain dev messages either."""
    content = _fold(path.read_text("utf-8"))
    found = [text for text in _dev_texts() if text in content]
    assert not found, f"{path.relative_to(ROOT)} copies dev-set messages: {found}"


def test_the_guard_catches_a_copied_message(tmp_path: Path) -> None:
    """A module quoting a dev message, even split over two literals, is caught."""
    message = _dev_texts()[-1]
    half = len(message) // 2
    module = tmp_path / "copied.py"
    module.write_text(f"RULE = ({message[:half]!r}\n    {message[half:]!r})\n", "utf-8")
    assert any(_copied(literal) for literal in _literals(module))
