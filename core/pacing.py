"""Per-user pacing: Meta's pair rate limit, as a value the outbox consults before a send.

Meta accepts about one message every 6 seconds to the same WhatsApp user (the "pair
rate"), tolerates a short burst, and answers error 131056 past it. The Cloud API also
caps a business number's throughput (80 messages/s by default). :class:`Pacer` holds a
token bucket per number and one per recipient (:class:`Throttle`) and
takes a token from both or from neither (:func:`allow_pair`), so the
outbox waits rather than bursting; while it waits, the next replies to that person
pile up in its lane and go out merged into one message where the content allows.

A 131056 answer means Meta saw more than we did (another sender, a restart that forgot
the buckets): :meth:`Pacer.penalize` empties that person's bucket, so the retry waits a
whole interval, and the send is answered by waiting, not by failing.

Pure: time is passed in (monotonic seconds). Buckets that have refilled are forgotten,
so the map only holds people written to in the last ``burst * interval`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

PAIR_RATE_CODE = 131056  # Meta: too many messages to this user in a short time
PAIR_INTERVAL = 6.0  # seconds per message to one user, Meta's documented pair rate
PAIR_BURST = 3  # a text and its buttons may go together; longer bursts are merged
_EMPTY: Mapping[str, Throttle] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttle:
    """A token bucket as a value: ``rate`` tokens a second, holding at most ``capacity``.

    ``tokens`` None means never used (full). Time is passed in, so replay agrees.
    """

    rate: float
    capacity: float
    tokens: float | None = None
    updated_at: float | None = None

    @classmethod
    def per_number(cls, messages_per_second: float = 80.0) -> Throttle:
        """Cloud API throughput: 80 messages a second per business number by default."""
        return cls(rate=messages_per_second, capacity=messages_per_second)

    @classmethod
    def per_user(cls, interval: float = 6.0, burst: int = 3) -> Throttle:
        """Pair rate: about one message per ``interval`` seconds to one user.

        Meta tolerates short bursts (error 131056 past them); a small ``burst`` lets a text
        and its buttons go together while the sender merges anything longer.
        """
        return cls(rate=1.0 / interval, capacity=float(burst))

    def level(self, now: float) -> float:
        """Tokens available at ``now``."""
        if self.tokens is None or self.updated_at is None:
            return self.capacity
        elapsed = max(0.0, now - self.updated_at)
        return min(self.capacity, self.tokens + elapsed * self.rate)

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        level = self.level(now)
        return 0.0 if level >= 1.0 - 1e-9 else (1.0 - level) / self.rate

    def allow(self, now: float) -> tuple[Throttle, float]:
        """Take a token: ``(new state, 0.0)``, or ``(unchanged, seconds to wait)`` when empty."""
        wait = self.wait(now)
        if wait > 0.0:
            return self, wait
        return replace(self, tokens=max(0.0, self.level(now) - 1.0), updated_at=now), 0.0


def allow_pair(number: Throttle, user: Throttle, now: float) -> tuple[Throttle, Throttle, float]:
    """Take a token from both buckets or from neither; the wait is the longer of the two."""
    wait = max(number.wait(now), user.wait(now))
    if wait > 0.0:
        return number, user, wait
    return number.allow(now)[0], user.allow(now)[0], 0.0


@dataclass(frozen=True, slots=True)
class Pacer:
    """The number's bucket and each recent recipient's bucket (see the module docstring)."""

    number: Throttle
    interval: float = PAIR_INTERVAL
    burst: int = PAIR_BURST
    users: Mapping[str, Throttle] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def of(
        cls, messages_per_second: float, interval: float = PAIR_INTERVAL, burst: int = PAIR_BURST
    ) -> Pacer:
        """A pacer for a number sending ``messages_per_second`` at most."""
        return cls(number=Throttle.per_number(messages_per_second), interval=interval, burst=burst)

    def user(self, to: str) -> Throttle:
        """``to``'s bucket (full when they were not written to lately)."""
        found = self.users.get(to)
        return found if found is not None else Throttle.per_user(self.interval, self.burst)

    def take(self, to: str, now: float) -> tuple[Pacer, float]:
        """One message to ``to``: ``(new pacer, 0.0)``, or ``(same, seconds to wait)``."""
        if self.interval <= 0:
            number, wait = self.number.allow(now)
            return replace(self, number=number), wait
        number, user, wait = allow_pair(self.number, self.user(to), now)
        if wait > 0.0:
            return self, wait
        return replace(self, number=number, users=self._with(to, user, now)), 0.0

    def penalize(self, to: str, now: float) -> Pacer:
        """Meta said 131056 for ``to``: nothing more to them for a whole interval."""
        if self.interval <= 0:
            return self
        empty = replace(self.user(to), tokens=0.0, updated_at=now)
        return replace(self, users=self._with(to, empty, now))

    def refund(self, to: str, now: float) -> Pacer:
        """The last message to ``to`` certainly never reached Meta's pair count (a 5xx, a
        refused connection): its token goes back to ``to``'s bucket (never above full)."""
        if self.interval <= 0 or to not in self.users:
            return self
        bucket = self.users[to]
        tokens = min(bucket.capacity, bucket.level(now) + 1.0)
        refunded = replace(bucket, tokens=tokens, updated_at=now)
        return replace(self, users=self._with(to, refunded, now))

    def _with(self, to: str, bucket: Throttle, now: float) -> Mapping[str, Throttle]:
        kept = {k: b for k, b in self.users.items() if b.level(now) < b.capacity}
        kept[to] = bucket
        return MappingProxyType(kept)
