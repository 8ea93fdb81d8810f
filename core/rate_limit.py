"""Per-phone inbound rate limit: 10 messages in any rolling minute.

Computed only from message timestamps recorded in the conversation stream (Meta's
``sent_at``), so a replay reaches the same verdicts as the live run. The verdict itself
is recorded too (``RateLimited``), and ``evolve`` never recomputes it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta

LIMIT = 10
WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateDecision:
    """The verdict for the newest inbound message(s) at ``now``."""

    allowed: bool
    notice_due: bool  # limited, and no notice went out in the last window
    count: int  # messages in the rolling window ending at ``now``


def in_window(
    recent: tuple[datetime, ...], now: datetime, window: timedelta = WINDOW
) -> tuple[datetime, ...]:
    """The timestamps in the rolling window ``(now - window, now]``, oldest first."""
    return tuple(sorted(t for t in recent if now - window < t <= now))


def check(
    recent: tuple[datetime, ...],
    now: datetime,
    *,
    notice_sent_at: datetime | None = None,
    limit: int = LIMIT,
    window: timedelta = WINDOW,
) -> RateDecision:
    """Judge the newest message: ``recent`` already holds its timestamp.

    The ``limit``-th message of a window is allowed, the next one is not. One polite
    notice per window: ``notice_due`` only when the last notice is ``window`` old or more.
    """
    count = len(in_window(recent, now, window))
    allowed = count <= limit
    quiet = notice_sent_at is not None and now - notice_sent_at < window
    return RateDecision(allowed=allowed, notice_due=not allowed and not quiet, count=count)


def remember(
    recent: tuple[datetime, ...], sent_at: datetime, window: timedelta = WINDOW
) -> tuple[datetime, ...]:
    """Add ``sent_at`` and drop what fell out of the window ending at the newest timestamp."""
    if not recent or sent_at >= recent[-1]:  # in order (replay, live): no sort needed
        # ``recent`` is oldest first (this function's own output): keep (sent_at - window, ...]
        return (*recent[bisect_right(recent, sent_at - window) :], sent_at)
    latest = max((*recent, sent_at))
    return in_window((*recent, sent_at), latest, window)
