"""How long-running operator work reports how far it got, without knowing who listens.

Operations (rebuild, audit, erase, retention) take an optional :data:`Progress` callback and
call it with ``(done, total)``: positions of the log reached so far and the last position,
or steps done of a known number. ``total`` is None while unknown. The command line turns
the calls into a bar on a terminal (``scripts/progress.py``); everyone else passes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int | None], None]


def silent(_done: int, _total: int | None) -> None:
    """The default :data:`Progress`: report to nobody."""
