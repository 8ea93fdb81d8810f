"""What a failed send means: the error tree every :class:`Messenger` raises, and its verdicts.

Error tree of a send (all raised by :class:`~core.ports.Messenger` implementations):

* :class:`TransientSendError` (a :class:`TransientError`): retry later with
  :func:`backoff_delay`, *unless* ``outcome_unknown`` is true: then the request may have
  reached Meta (timeout, connection reset) and, since Meta has no idempotency key, a
  resend may deliver the message twice. Put such a message on the review queue instead.
* :class:`PermanentSendError` (a :class:`PermanentError`): record the failure; when
  ``alert_operator`` is true the fault is ours (expired token, locked account), not the
  recipient's, and a human must act.

:func:`classify_send_error` turns Meta's code (or, failing that, the HTTP status) into a
verdict; :func:`backoff_delay` computes the quick retries' waits from the jitter the
shell passes in. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.ports import PermanentError, PortError, TransientError


class SendError(PortError):
    """A Graph API call failed; fields keep Meta's error body for the failure event."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        title: str | None = None,
        details: str | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
        alert_operator: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.title = title
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after
        self.alert_operator = alert_operator
        self.outcome_unknown = outcome_unknown


class TransientSendError(SendError, TransientError):
    """Retry later; never blindly when ``outcome_unknown`` (see the module docstring)."""


class PermanentSendError(SendError, PermanentError):
    """Do not retry; record the failure (and alert a human when ``alert_operator``)."""


class SendErrorKind(StrEnum):
    """What to do after a failed send."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True, kw_only=True)
class SendErrorClass:
    """The verdict on one failure: retry or not, and whether a human must be told."""

    kind: SendErrorKind
    alert_operator: bool = False

    @property
    def transient(self) -> bool:
        """True when the send may be retried with backoff."""
        return self.kind is SendErrorKind.TRANSIENT


# Meta's codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
_TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131056, 133004})
# The business's own fault: auth (0), capability (3), permissions (10, 200-299), token
# (190), restricted (368), account locked (131031), payment (131042). A human must act.
_OPERATOR_CODES = frozenset({0, 3, 10, 190, 368, 131031, 131042})
# The recipient or the request: outside the 24-hour window (131047), undeliverable
# (131026), unsupported type (131051), bad or missing parameters (100, 131008, 131009).
_PERMANENT_CODES = frozenset({100, 131008, 131009, 131026, 131047, 131051})


def classify_send_error(http_status: int | None, code: int | None) -> SendErrorClass:
    """Classify a failure by Meta's error ``code`` first, then by HTTP status.

    Template errors are 132000-132069. An unknown code falls back to the status;
    ``http_status`` None means no answer at all (timeout, reset): transient.
    """
    if code in _TRANSIENT_CODES:
        return SendErrorClass(kind=SendErrorKind.TRANSIENT)
    if code is not None and (code in _OPERATOR_CODES or 200 <= code <= 299):
        return SendErrorClass(kind=SendErrorKind.PERMANENT, alert_operator=True)
    if code is not None and (code in _PERMANENT_CODES or 132000 <= code <= 132069):
        return SendErrorClass(kind=SendErrorKind.PERMANENT)
    if http_status is None or http_status == 429 or http_status >= 500:
        return SendErrorClass(kind=SendErrorKind.TRANSIENT)
    return SendErrorClass(kind=SendErrorKind.PERMANENT, alert_operator=http_status in {401, 403})


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    jitter: float,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    Exponential with "equal jitter": between half and all of ``min(cap, base * 2**(attempt-1))``,
    ``jitter`` in [0, 1) choosing where; never less than Meta's ``retry_after`` when given.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    delay = ceiling * (0.5 + jitter / 2.0)
    return max(delay, retry_after) if retry_after is not None else delay


# Meta's rate limits: the app's (4), the account's (80007), the number's throughput
# (130429) and the pair rate (131056). Meta is up and said "not so fast": not an outage.
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})


def outage_code(code: int | None) -> bool:
    """A transient failure with ``code`` is Meta or the network being down, not a rate limit.

    What a scheduled retry keeps of its failure is the code alone, so this is the rule for
    schedules read back from the log (a bare HTTP 429 without Meta's JSON counts as down).
    """
    return code not in RATE_LIMIT_CODES


def outage(error: SendError) -> bool:
    """``error`` certainly delivered nothing and is system-wide: a 5xx answer, or a
    connection refused (or timed out) before the request was written; not a rate limit
    (HTTP 429, :data:`RATE_LIMIT_CODES`), not a recipient's fault, not an unknown outcome."""
    if not isinstance(error, TransientSendError) or error.outcome_unknown:
        return False
    down = error.http_status is None or error.http_status >= 500
    return down and outage_code(error.code)
