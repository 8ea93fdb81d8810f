"""Per-user pacing: Meta's pair rate limit, as a value the outbox consults before a send.

Meta accepts about one message every 6 seconds to the same WhatsApp user (the "pair
rate"), tolerates a short burst, and answers error 131056 past it. The Cloud API also
caps a business number's throughput (80 messages/s by default). :class:`Pacer` holds a
token bucket per number and one per recipient (:class:`~core.outbound.Throttle`) and
takes a token from both or from neither (:func:`~core.outbound.allow_pair`), so the
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

from core.outbound import Throttle, allow_pair

PAIR_RATE_CODE = 131056  # Meta: too many messages to this user in a short time
PAIR_INTERVAL = 6.0  # seconds per message to one user, Meta's documented pair rate
PAIR_BURST = 3  # a text and its buttons may go together; longer bursts are merged
_EMPTY: Mapping[str, Throttle] = MappingProxyType({})


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

    def _with(self, to: str, bucket: Throttle, now: float) -> Mapping[str, Throttle]:
        kept = {k: b for k, b in self.users.items() if b.level(now) < b.capacity}
        kept[to] = bucket
        return MappingProxyType(kept)
