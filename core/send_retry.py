"""When a transiently failed send is tried again, and when it stops being tried.

After the outbox's quick attempts (a few seconds) a send that failed for a transient
reason (5xx, 429/130429, a refused connection, a timeout before the request was written)
is retried on a durable schedule: the waits double from ``first`` (seconds) up to ``cap``
(minutes), for at most ``horizon`` after its first failure, and never past the
24-hour window for anything but a template (Meta would refuse it with 131047 anyway).
What is still unsent at that point goes to the review queue. Pure: time is passed in,
``jitter`` in [0, 1) spreads the retries of an outage so they do not all fire at once.

When Meta accepts a send again, the retries scheduled because Meta or the network was
down (:func:`core.send_errors.outage`) need not wait out their doubled waits:
:func:`pull_forward` makes them due now, spread at the number's throughput, earliest
first (ADR 0036). Retries for a rate limit keep their time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from core.window import SERVICE_WINDOW
from events.conversation import ReplyKind


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """The durable retry policy (settings ``SEND_RETRY_HORIZON``, ``SEND_RETRY_CAP``)."""

    first: float = 5.0  # seconds before the first scheduled retry
    cap: float = 300.0  # the longest wait between two retries
    horizon: float = 3600.0  # seconds after the first failure; 0 turns durable retries off

    def delay(self, retry: int, jitter: float) -> float:
        """Seconds before retry number ``retry`` (1, 2, ...), "equal jitter" applied."""
        full: float = min(self.cap, self.first * 2.0 ** min(retry - 1, 32))
        return full * (0.5 + 0.5 * jitter)

    def next_due(
        self,
        retry: int,
        *,
        failed_at: datetime,
        first_failed_at: datetime,
        kind: ReplyKind,
        last_inbound_at: datetime | None,
        jitter: float,
    ) -> datetime | None:
        """When retry ``retry`` is due, or None when it would fall past the horizon or window."""
        if self.horizon <= 0:
            return None
        due = failed_at + timedelta(seconds=self.delay(retry, jitter))
        limit = first_failed_at + timedelta(seconds=self.horizon)
        if kind is not ReplyKind.TEMPLATE:
            if last_inbound_at is None:
                return None
            limit = min(limit, last_inbound_at + SERVICE_WINDOW)
        return due if due <= limit else None


class Pending(NamedTuple):
    """A scheduled retry as the timer holds it (ordered by ``due_at``, then the rest).

    ``outage``: scheduled because Meta or the network was down, so pulled forward when
    Meta answers again; False for a rate limit, and once pulled forward.
    """

    due_at: datetime
    stream: str
    outbound_id: str
    retry: int
    outage: bool = False


def pull_forward(pending: Sequence[Pending], *, now: datetime, rate: float) -> list[Pending]:
    """``pending`` after Meta accepted a send at ``now``: the outage retries due soon.

    The outage retries go, earliest first, one every ``1 / rate`` seconds from ``now``
    (``rate``: the number's messages per second; 0 or less: all at ``now``), never later
    than they were due, and are no longer marked ``outage`` (one recovery pulls each
    forward once). Every other retry is returned unchanged. Order per person is the
    outbox's (a due retry sends that person's backlog in queue order).
    """
    step = 1.0 / rate if rate > 0 else 0.0
    pulled = sorted(p for p in pending if p.outage)
    kept = [p for p in pending if not p.outage]
    return kept + [
        p._replace(due_at=min(p.due_at, now + timedelta(seconds=rank * step)), outage=False)
        for rank, p in enumerate(pulled)
    ]
