"""The one policy for optimistic-concurrency conflicts: bounded, with backoff, then park.

A writer that appends at an expected version and finds another writer got there first
reloads and decides again. :func:`until_settled` runs such an attempt under
:class:`ConflictPolicy`: a bounded number of tries, waits doubling from ``first`` up to
``cap``. When the tries run out it raises :class:`ConflictsExhaustedError`; under the
stream dispatcher that counts as a handler failure, retried a few times and then parked
on the review queue (``ReactorEventParked``), the only way out: nothing is dropped.

Conflicts should be rare: turns of one stream are serialized in the process (dispatcher
lanes) and across processes (leases), and a reactor appending after new inbound facts
expects ``ExpectAfterFacts`` rather than an exact version (ADR 0011), so a burst from one
number no longer makes it conflict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from adapters.store.types import StreamVersionConflictError

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConflictPolicy:
    """How often and how patiently a conflicting writer reloads and decides again."""

    tries: int = 10
    first: float = 0.005  # seconds before the second try, doubled each time
    cap: float = 0.25


class ConflictsExhaustedError(RuntimeError):
    """Every try met a version conflict: the caller's dispatcher parks the work."""


DEFAULT_POLICY = ConflictPolicy()


async def until_settled(
    attempt: Callable[[], Awaitable[T]], what: str, policy: ConflictPolicy = DEFAULT_POLICY
) -> T:
    """Run ``attempt`` until it does not conflict, at most ``policy.tries`` times."""
    delay = policy.first
    for n in range(1, policy.tries + 1):
        try:
            return await attempt()
        except StreamVersionConflictError as exc:
            log.info("conflict.reload", what=what, attempt=n, actual=exc.actual)
            if n == policy.tries:
                break
        await asyncio.sleep(delay)
        delay = min(delay * 2, policy.cap)
    raise ConflictsExhaustedError(f"{what}: kept conflicting with other writers")
