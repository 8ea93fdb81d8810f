"""The per-phone rate limit: 10 messages per rolling minute, one notice per window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.rate_limit import LIMIT, WINDOW, check, in_window, remember

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def burst(count: int, *, start: datetime = T0, step: float = 1.0) -> tuple[datetime, ...]:
    """``count`` timestamps ``step`` seconds apart from ``start``."""
    return tuple(start + timedelta(seconds=i * step) for i in range(count))


def test_tenth_message_in_a_minute_is_allowed() -> None:
    """The limit itself is still allowed."""
    recent = burst(LIMIT)
    assert check(recent, recent[-1]).allowed


def test_eleventh_message_in_a_minute_is_limited() -> None:
    """One over the limit is refused."""
    recent = burst(LIMIT + 1)
    assert not check(recent, recent[-1]).allowed


def test_first_limited_message_is_due_a_notice() -> None:
    """The first refusal of a window gets the polite notice."""
    recent = burst(LIMIT + 1)
    assert check(recent, recent[-1]).notice_due


def test_notice_is_not_repeated_within_the_window() -> None:
    """After a notice, further refusals in the same minute stay silent."""
    recent = burst(LIMIT + 2)
    decision = check(recent, recent[-1], notice_sent_at=recent[-2])
    assert (decision.allowed, decision.notice_due) == (False, False)


def test_notice_is_due_again_a_minute_after_the_last_one() -> None:
    """A new window may get a new notice while the customer keeps flooding."""
    recent = burst(30, step=2.0)
    decision = check(recent, recent[-1], notice_sent_at=recent[-1] - WINDOW)
    assert (decision.allowed, decision.notice_due) == (False, True)


def test_limit_recovers_after_a_minute() -> None:
    """A message a full minute after a burst is allowed again."""
    later = T0 + WINDOW
    recent = (*burst(LIMIT + 5, step=0.0), later)
    assert check(recent, later).allowed


def test_allowed_message_is_never_due_a_notice() -> None:
    """Notices are only for refused messages."""
    assert not check((T0,), T0, notice_sent_at=None).notice_due


def test_message_exactly_a_minute_old_has_left_the_window() -> None:
    """The rolling window is ``(now - 1 min, now]``."""
    assert in_window((T0, T0 + timedelta(seconds=1)), T0 + WINDOW) == (T0 + timedelta(seconds=1),)


def test_remember_drops_timestamps_older_than_the_window() -> None:
    """The state keeps only the last minute, measured from the newest message."""
    kept = remember(burst(5), T0 + timedelta(seconds=90))
    assert kept == (T0 + timedelta(seconds=90),)


def test_remember_keeps_a_late_arrival_inside_the_window() -> None:
    """Out-of-order timestamps within the minute still count."""
    kept = remember((T0 + timedelta(seconds=30),), T0 + timedelta(seconds=5))
    assert kept == (T0 + timedelta(seconds=5), T0 + timedelta(seconds=30))


def test_remember_in_order_equals_the_window_of_everything() -> None:
    """The in-order fast path keeps exactly what the general rule keeps."""
    recent: tuple[datetime, ...] = ()
    for i, gap in enumerate([0, 5, 5, 30, 1, 59, 60, 61, 0, 120, 3] * 3):
        now = (recent[-1] if recent else T0) + timedelta(seconds=gap)
        expected = in_window((*recent, now), now)
        recent = remember(recent, now)
        assert recent == expected, i
