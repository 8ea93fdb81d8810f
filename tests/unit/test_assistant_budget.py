"""The process-wide LLM requests-per-minute budget, driven by an injected clock."""

from __future__ import annotations

import pytest

from adapters.assistant.budget import BudgetExhaustedError, RequestBudget


class FakeTime:
    """A clock and a sleep that advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 500.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _budget(time: FakeTime, per_minute: int, max_wait: float = 30.0) -> RequestBudget:
    return RequestBudget(per_minute, time, sleep=time.sleep, max_wait=max_wait)


def test_try_acquire_grants_up_to_the_limit_then_refuses() -> None:
    """Within one minute only per_minute requests are granted; the next is refused."""
    budget = _budget(FakeTime(), per_minute=3)
    assert [budget.try_acquire() for _ in range(4)] == [True, True, True, False]
    stats = budget.stats()
    assert (stats.granted, stats.rejected, stats.in_window) == (3, 1, 3)


def test_window_slides_so_old_grants_free_their_slots() -> None:
    """A grant older than 60 seconds no longer counts against the budget."""
    time = FakeTime()
    budget = _budget(time, per_minute=2)
    budget.try_acquire()
    time.now += 30
    budget.try_acquire()
    time.now += 30
    assert budget.try_acquire() is True
    assert budget.try_acquire() is False


async def test_acquire_waits_for_the_oldest_grant_to_leave_the_window() -> None:
    """When the minute is spent, acquire sleeps exactly until a slot frees up."""
    time = FakeTime()
    budget = _budget(time, per_minute=2, max_wait=60)
    await budget.acquire()
    time.now += 15
    await budget.acquire()
    time.now += 5
    await budget.acquire()
    assert time.slept == [40.0]
    assert budget.stats().waited == 1


async def test_acquire_raises_when_the_wait_would_exceed_max_wait() -> None:
    """A wait longer than max_wait is refused instead of stalling the conversation."""
    time = FakeTime()
    budget = _budget(time, per_minute=1, max_wait=10)
    await budget.acquire()
    with pytest.raises(BudgetExhaustedError, match="next slot"):
        await budget.acquire()
    assert time.slept == []
    assert budget.stats().rejected == 1


async def test_acquire_does_not_wait_while_budget_remains() -> None:
    """With slots free, acquire returns at once and counts the grant."""
    time = FakeTime()
    budget = _budget(time, per_minute=5)
    for _ in range(5):
        await budget.acquire()
    assert time.slept == []
    assert budget.stats().granted == 5
