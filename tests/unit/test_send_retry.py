"""The durable retry schedule of transiently failed sends: pure, time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.send_retry import RetrySchedule
from events.conversation import ReplyKind

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule(first=5.0, cap=300.0, horizon=3600.0)


def due(
    retry: int, *, failed: float = 0.0, kind: ReplyKind = ReplyKind.TEXT, **kw: object
) -> datetime | None:
    """Retry ``retry`` of a reply first failing at T0, failing again ``failed`` s later."""
    options: dict[str, object] = {"last_inbound_at": T0, "jitter": 1.0 - 1e-9, **kw}
    schedule = options.pop("schedule", SCHEDULE)
    assert isinstance(schedule, RetrySchedule)
    return schedule.next_due(
        retry,
        failed_at=T0 + timedelta(seconds=failed),
        first_failed_at=T0,
        kind=kind,
        **options,  # type: ignore[arg-type]
    )


def test_waits_grow_from_seconds_to_minutes_and_stop_at_the_cap() -> None:
    """5 s, 10 s, 20 s ... then at most 5 minutes."""
    waits = [SCHEDULE.delay(n, 1.0 - 1e-9) for n in (1, 2, 3, 10)]
    assert waits[:3] == pytest.approx([5.0, 10.0, 20.0])
    assert waits[3] == pytest.approx(300.0)


def test_jitter_keeps_between_half_and_all_of_the_wait() -> None:
    """Equal jitter: retries of one outage are spread, never sooner than half."""
    assert SCHEDULE.delay(2, 0.0) == pytest.approx(5.0)
    assert SCHEDULE.delay(2, 0.5) == pytest.approx(7.5)


def test_a_retry_past_the_horizon_is_not_scheduled() -> None:
    """An hour after the first failure, what is unsent goes to review instead."""
    assert due(1, failed=3000.0) is not None
    assert due(20, failed=3590.0) is None


def test_a_free_form_reply_is_not_retried_past_the_24_hour_window() -> None:
    """The window closes 24 h after the customer's last message."""
    late = T0 - timedelta(hours=23, minutes=59, seconds=58)
    assert due(1, last_inbound_at=late) is None
    assert due(1, kind=ReplyKind.TEMPLATE, last_inbound_at=late) is not None


def test_a_horizon_of_zero_turns_durable_retries_off() -> None:
    """Setting 0: the quick attempts are all there is."""
    assert due(1, schedule=RetrySchedule(horizon=0.0)) is None
