"""Wake-ups after commits: in-process always; across processes through PostgreSQL NOTIFY.

Subscribers wait on :meth:`Notifier.wait` with a bounded timeout, so a missed wake-up
(another process on SQLite, a dropped LISTEN connection) costs at most one poll interval.
A follower paces its passes with a :class:`Gather`, so that a burst of small commits
costs it a few reads, not one read (and one transaction) per commit.
"""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    """Broadcasts "the log grew to position N" to every waiting subscriber."""

    def __init__(self) -> None:
        self._position = 0
        self._changed = asyncio.Event()

    @property
    def position(self) -> int:
        """The highest position announced so far."""
        return self._position

    def notify(self, position: int) -> None:
        """Announce that positions up to ``position`` are committed."""
        self._position = max(self._position, position)
        self._changed.set()

    async def wait(self, after: int, timeout: float) -> None:  # noqa: ASYNC109 - a bounded poll, not a deadline
        """Return when a position beyond ``after`` is announced, or after ``timeout``."""
        if self._position > after:
            return
        self._changed.clear()
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
        # that lands as the event fires, and a reactor's stop() then waited forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()


class Gather:
    """At most one pass per ``interval``: after a quiet spell a pass starts at once.

    During a burst the group commit releases a small batch every millisecond or two,
    and each commit wakes every follower; a follower that calls :meth:`pause` before
    each pass then takes the events of all the commits of the last ``interval`` in one
    read, one dispatch and (for the writers) one transaction. The added delay is at most
    ``interval``, and only while the log keeps growing faster than that.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = float("-inf")  # loop time the previous pass started

    async def pause(self) -> None:
        """Wait out what is left of ``interval`` since the previous pass, then mark this one."""
        loop = asyncio.get_running_loop()
        left = self._last + self.interval - loop.time()
        if left > 0:
            await asyncio.sleep(left)
        self._last = loop.time()
