"""What the outbox decider asks the shell for, and what comes back (ADR 0032).

On the one runner (:mod:`adapters.engine.runner`) the outbox's ``decide``
(:mod:`core.outbox.drive`) asks for one piece of outside work at a time: read receipts, a
person's number, a pacing token, a call to Meta (recorded first as an attempt, through
:class:`~core.decider.RecordFirst`), the retry timer, an operator alert. Each comes back
as one outcome. Outcomes and :class:`LogNote` are never stored: what the log keeps of a
send is the :class:`~core.outbox.decisions.Record` values the decider decides from them
(the attempt, ``OutboundSent``, ``OutboundFailed``...), as before the runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.outbound import OutboundMessage
from core.outbox.decisions import MarkAsRead, OperatorAlert, Record
from core.send_errors import SendError

# -- requests ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkReads:
    """Blue ticks and typing for these messages: best effort, never awaited."""

    reads: tuple[MarkAsRead, ...]


@dataclass(frozen=True, slots=True)
class Resolve:
    """The number behind ``person`` (a reply is queued to a person id)."""

    person: str


@dataclass(frozen=True, slots=True)
class Pace:
    """Wait ``pause`` seconds (a quick retry's backoff), then for a token of the number's
    throughput and of ``to``'s pair rate; ``penalize`` first empties ``to``'s bucket
    (Meta answered 131056); ``refund`` first gives ``to`` back the pair token of the
    previous attempt, which certainly delivered nothing (an outage: 5xx, refused)."""

    to: str
    pause: float = 0.0
    penalize: bool = False
    refund: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """Send ``message`` to Meta (asked through ``RecordFirst``: its attempt is stored first)."""

    message: OutboundMessage


@dataclass(frozen=True, slots=True)
class Remind:
    """Tell the retry timer to fire ``retry`` of ``outbound_id`` at ``due_at``."""

    stream: str
    outbound_id: str
    retry: int
    due_at: datetime
    code: int | None
    outage: bool = False  # scheduled because Meta was down: due early once Meta answers


@dataclass(frozen=True, slots=True)
class Alert:
    """Log and count an operator alert; say whether its push may go out now (throttle)."""

    alert: OperatorAlert


OutboxRequest = MarkReads | Resolve | Pace | Call | Remind | Alert

# -- outcomes (never stored) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadsMarked:
    """The read receipts are on their way."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """The person's number; None when they are unknown."""

    number: str | None


@dataclass(frozen=True, slots=True)
class Paced:
    """The tokens are taken: the call may go out."""


@dataclass(frozen=True, slots=True)
class Answered:
    """Meta took the message and named it ``wamid``."""

    wamid: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Meta (or the network) said no; ``at`` and ``jitter`` are the shell's, at that moment."""

    error: SendError
    at: datetime
    jitter: float


@dataclass(frozen=True, slots=True)
class Owned:
    """The attempt was already stored: another handling made it and owns the call."""

    outbound_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Reminded:
    """The retry timer knows."""


@dataclass(frozen=True, slots=True)
class AlertAdmitted:
    """Whether the alert's operator push may go out (one per code per interval)."""

    push: bool


@dataclass(frozen=True, slots=True)
class LogNote:
    """A decided line for the shell's log, never stored: ``event`` about ``outbound_id``
    (a warning, or an error when ``error``)."""

    event: str
    outbound_id: str
    error: bool = False


OutboxOutcome = (
    ReadsMarked | Resolved | Paced | Answered | Refused | Owned | Reminded | AlertAdmitted
)
OutboxEvent = Record | LogNote | OutboxOutcome
