"""A process-wide requests-per-minute budget for the LLM, shared by all conversations.

OpenAI limits requests per minute per organisation; many conversations run at once
(DESIGN.md section 5), so they draw from one :class:`RequestBudget`. It is a sliding
window: at most ``per_minute`` grants in any 60 seconds. :meth:`RequestBudget.acquire`
waits for the window to free a slot, but never longer than ``max_wait`` seconds in
total: past that it raises :class:`BudgetExhaustedError` so the caller can fall back
instead of leaving a customer waiting.

The clock and the sleep function are injected so tests run without real time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0


class BudgetExhaustedError(Exception):
    """No request slot frees up within the allowed wait."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetStats:
    """Counters of a :class:`RequestBudget`."""

    per_minute: int
    in_window: int  # grants within the last 60 seconds
    granted: int
    waited: int  # grants that had to wait for the window
    rejected: int  # try_acquire refusals and acquire timeouts


class RequestBudget:
    """At most ``per_minute`` requests in any sliding 60-second window."""

    def __init__(
        self,
        per_minute: int = 3500,
        clock: Callable[[], float] = time.monotonic,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_wait: float = 30.0,
    ) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self._per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._grants: deque[float] = deque()
        self._lock = asyncio.Lock()  # waiters are served in arrival order
        self._granted = self._waited = self._rejected = 0

    def try_acquire(self) -> bool:
        """Take a slot now if one is free; never waits."""
        if self._take(self._clock()):
            return True
        self._rejected += 1
        return False

    async def acquire(self) -> None:
        """Take a slot, waiting (bounded by ``max_wait``) for the window to free one."""
        async with self._lock:
            started = self._clock()
            if self._take(started):
                return
            while True:
                now = self._clock()
                delay = self._grants[0] + WINDOW_SECONDS - now
                if now - started + delay > self._max_wait:
                    self._rejected += 1
                    raise BudgetExhaustedError(
                        f"LLM budget of {self._per_minute}/min spent; "
                        f"next slot in {delay:.1f}s exceeds the {self._max_wait:.1f}s wait"
                    )
                await self._sleep(max(delay, 0.0))
                if self._take(self._clock()):
                    self._waited += 1
                    return

    def stats(self) -> BudgetStats:
        """Current counters."""
        self._expire(self._clock())
        return BudgetStats(
            per_minute=self._per_minute,
            in_window=len(self._grants),
            granted=self._granted,
            waited=self._waited,
            rejected=self._rejected,
        )

    def _take(self, now: float) -> bool:
        self._expire(now)
        if len(self._grants) >= self._per_minute:
            return False
        self._grants.append(now)
        self._granted += 1
        return True

    def _expire(self, now: float) -> None:
        while self._grants and self._grants[0] <= now - WINDOW_SECONDS:
            self._grants.popleft()
