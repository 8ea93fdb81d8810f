"""Values exchanged with the event store: append requests, results and expectations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from core.ports import ConcurrencyError, PortError
from events.base import NewEvent


class Expect(Enum):
    """Expected-version wildcards: any version, or a stream that does not exist yet."""

    ANY = "any"
    NO_STREAM = "no_stream"


@dataclass(frozen=True, slots=True)
class ExpectAfterFacts:
    """Expect ``version``, or a later one reached only by events whose type is in ``facts``.

    A reactor that decided from the stream at ``version`` may still append when the only
    events written since are ones its decision does not depend on (new inbound facts
    left for its next turn, delivery statuses). The store checks it atomically, inside
    the append transaction (``adapters/store/tolerant.py``, ADR 0011).
    """

    version: int
    facts: frozenset[str]


ExpectedVersion = int | Expect | ExpectAfterFacts


class StreamVersionConflictError(ConcurrencyError):
    """The stream's version is not the one the caller expected."""

    def __init__(self, stream: str, expected: ExpectedVersion, actual: int) -> None:
        shown: object = expected.value if isinstance(expected, Expect) else expected
        if isinstance(expected, ExpectAfterFacts):
            shown = f"{expected.version} (or later by facts only)"
        super().__init__(
            f"stream {stream!r}: expected version {shown}, but it is at version {actual}"
        )
        self.stream = stream
        self.expected = expected
        self.actual = actual


class StoreUnavailableError(PortError):
    """The database could not be reached or failed the transaction; nothing was written."""


class StoreBusyError(StoreUnavailableError):
    """Too many appends already wait for the group commit: refused now, not queued.

    The webhook answers it with 503, so Meta redelivers later instead of the queue (and
    every caller's latency) growing without bound past saturation.
    """


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """Events for one stream with the version the caller expects it to be at."""

    stream: str
    expected: ExpectedVersion
    events: Sequence[NewEvent]
    # People (person ids) whose data the events' personal fields also carry: they are
    # sealed with the stream owner's key AND theirs, so erasing either hides them (ADR 0017).
    sealed_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Appended:
    """Where one new event landed."""

    event_id: UUID
    position: int
    version: int


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of one request: what was stored now and which ids were already there."""

    stream: str
    appended: tuple[Appended, ...]
    duplicates: tuple[UUID, ...]  # already stored: an idempotent retry, nothing written
    version: int  # the stream's version after the append

    @property
    def was_duplicate(self) -> bool:
        """True when nothing new was stored (every event id was known)."""
        return not self.appended and bool(self.duplicates)
