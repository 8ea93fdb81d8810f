"""Progress bars for long operator commands: on a terminal only, never when piped or --json.

A bar goes to standard error (standard output carries the answer, and ``--json`` answers
must stay machine-readable), drawn by ``rich``. When standard error is not a terminal, or
the command was asked for JSON, the callback does nothing and nothing extra is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from adapters.progress import Progress as ProgressCallback
from adapters.progress import silent


def wanted(*, json_output: bool = False, stream: TextIO | None = None) -> bool:
    """True when a bar may be drawn: a terminal on standard error and no JSON asked."""
    out = stream or sys.stderr
    return not json_output and out.isatty()


@contextmanager
def progress_bar(
    label: str, *, json_output: bool = False, stream: TextIO | None = None
) -> Iterator[ProgressCallback]:
    """A :data:`adapters.progress.Progress` callback that draws ``label``'s bar, or is silent."""
    out = stream or sys.stderr
    if not wanted(json_output=json_output, stream=out):
        yield silent
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=out), transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
