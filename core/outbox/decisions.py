"""The outbox decider's decisions: typed values the shell carries out with ``match``.

:func:`core.outbox.decide.decide` answers a batch of a stream's events with a
:class:`Plan`: read receipts to send, one decision per queued reply (or merged group of
replies) and one per status webhook. A :class:`Send` is the only outside call; after
each failed attempt :func:`core.outbox.decide.after_error` answers with an
:data:`AfterError` verdict. Every other decision only lists :class:`Record` values to
append, so the shell never builds an event itself.

Every record is named by its reply and a step (``attempt:3``, ``sent``, ``failed``...)
from which the shell derives the event id (:func:`record_id`): a re-run after a crash
appends nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.outbound import OutboundContent
from core.outbox.content import group_content
from core.send_retry import RetrySchedule
from events.base import RecordedEvent

OUTBOX_NAMESPACE = uuid.UUID("0b7e4a52-2a0c-4d8e-9f3b-8d1c6e5a4f20")
MAX_PAIR_WAITS = 10  # 131056 answers waited out per message before it counts as failing


def record_id(outbound_id: str, step: str) -> uuid.UUID:
    """The deterministic event id of ``step`` for reply ``outbound_id``."""
    return uuid.uuid5(OUTBOX_NAMESPACE, f"{outbound_id}:{step}")


@dataclass(frozen=True, slots=True)
class Record:
    """One event to append about a queued reply (its causation and correlation)."""

    queued: RecordedEvent  # the ReplyQueued this event is about
    step: str  # unique per reply: the event id derives from it
    payload: Any  # an instance of a registered event class
    carrier: RecordedEvent | None = None  # the reply a merged send went under (its cause)


@dataclass(frozen=True, slots=True)
class OperatorAlert:
    """A failure that is the business's fault: the shell logs ``operator.alert`` and counts it."""

    stream: str
    outbound_id: str
    code: int | None
    title: str


@dataclass(frozen=True, slots=True)
class Escalation:
    """Handing a conversation to people after a failed send.

    ``operator_push`` is offered, not ordered: the shell sends at most one per error
    code per interval in its process (:class:`core.outbox.decide.AlertPushes`).
    """

    records: tuple[Record, ...]
    alert: OperatorAlert | None = None
    operator_push: Record | None = None


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The sending policy's knobs (settings and constructor arguments of the sender)."""

    quick_attempts: int = 4  # attempts in a row before a durable retry is scheduled
    backoff_base: float = 0.5  # seconds before the first quick retry, doubled after
    max_pair_waits: int = MAX_PAIR_WAITS
    retry: RetrySchedule = field(default_factory=RetrySchedule)
    mark_read: bool = False  # blue ticks and typing for fresh inbound messages

    def __post_init__(self) -> None:
        if self.quick_attempts < 1:
            raise ValueError(f"quick_attempts must be at least 1, got {self.quick_attempts}")
        if self.backoff_base < 0 or self.max_pair_waits < 0:
            raise ValueError(
                "backoff_base and max_pair_waits must not be negative, got "
                f"{self.backoff_base} and {self.max_pair_waits}"
            )


DEFAULT_POLICY = SendPolicy()


@dataclass(frozen=True, slots=True)
class Tries:
    """Counts of one send so far: failed attempts and 131056 waits."""

    failures: int = 0
    paced: int = 0


# -- decisions on a batch -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkAsRead:
    """Blue ticks and the typing indicator on ``wamid`` (best effort, never awaited)."""

    to: str
    wamid: str


@dataclass(frozen=True, slots=True)
class Send:
    """Call Meta for ``group`` (one reply, or texts merged), from attempt ``first_attempt``.

    ``to`` is the recipient as queued (a person id the shell resolves to a number);
    ``quick`` is how many failed attempts in a row are allowed before a durable retry.
    """

    group: tuple[RecordedEvent, ...]
    to: str
    first_attempt: int
    quick: int

    @property
    def content(self) -> OutboundContent:
        """The message: the reply's own, or the group's texts merged (built when sent)."""
        return group_content(self.group)

    @property
    def outbound_id(self) -> str:
        """The id the send carries: the first reply's."""
        oid: str = self.group[0].payload.outbound_id
        return oid


@dataclass(frozen=True, slots=True)
class Fail:
    """Record a failure for every reply of a group; escalate when it is permanent."""

    records: tuple[Record, ...]
    escalation: Escalation | None = None


@dataclass(frozen=True, slots=True)
class Reconcile:
    """A status webhook proves a send whose outcome was unknown reached Meta."""

    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class GiveUpUnknown:
    """An attempt without an outcome and no proof: recorded for review, never resent."""

    records: tuple[Record, ...]

    @property
    def outbound_id(self) -> str:
        """The reply given up on."""
        oid: str = self.records[0].payload.outbound_id
        return oid


@dataclass(frozen=True, slots=True)
class Escalate:
    """A ``failed`` status webhook with a permanent code: hand the conversation to people."""

    escalation: Escalation


ReplyDecision = Send | Fail | Reconcile | GiveUpUnknown
StatusDecision = Reconcile | Escalate


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do about one batch, in order.

    The shell carries ``replies`` in order and stops at the first :class:`Send` that
    ends with a :class:`ScheduleRetry` (later replies to that person wait behind it);
    ``statuses`` are carried out either way.
    """

    reads: tuple[MarkAsRead, ...] = ()
    replies: tuple[ReplyDecision, ...] = ()
    statuses: tuple[StatusDecision, ...] = ()


# -- verdicts after a failed attempt ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitForPacing:
    """Meta said 131056 (pair rate): empty the person's bucket and try the same message."""

    tries: Tries


@dataclass(frozen=True, slots=True)
class RetryNow:
    """A transient failure within the quick attempts: wait ``delay`` seconds, try again."""

    delay: float
    tries: Tries


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    """Quick attempts spent on a transient failure: a durable retry at ``due_at``."""

    records: tuple[Record, ...]
    outbound_id: str
    retry: int
    due_at: datetime
    code: int | None
    outage: bool = False  # Meta or the network was down: pulled forward once Meta answers


AfterError = WaitForPacing | RetryNow | ScheduleRetry | Fail
