"""``.env`` in the current folder, read under the process environment (the environment wins).

The format is the one ``.env.example`` uses: ``NAME=value`` lines, ``#`` comments, blank
lines, an optional ``export`` prefix, and values optionally in single or double quotes
(taken literally; no variable expansion). A line we cannot read fails the start with its
line number, like any other bad setting. The file is optional and never written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

DOTENV = ".env"
_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


class DotenvError(ValueError):
    """A line of ``.env`` is not ``NAME=value``; the message names the file and line."""


def parse_dotenv(text: str, *, source: str = DOTENV) -> dict[str, str]:
    """The variables ``text`` assigns; raises :class:`DotenvError` on a malformed line."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise DotenvError(f"{source} line {number}: expected NAME=value, got {line[:40]!r}")
        values[match[1]] = _value(match[2])
    return values


def _value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    return raw.split(" #", 1)[0].strip()


def environment(
    folder: Path | None = None, process: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``folder``/.env (default: the current folder) overlaid by ``process`` (``os.environ``)."""
    path = (folder or Path.cwd()) / DOTENV
    process = os.environ if process is None else process
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return dict(process)
    except (OSError, UnicodeDecodeError) as exc:
        raise DotenvError(f"cannot read {path}: {exc}") from None
    return {**parse_dotenv(text, source=str(path)), **process}
