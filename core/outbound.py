"""Outbound WhatsApp messages as values, their Graph API JSON, and the rules around sending.

Everything here is pure: message values validate Meta's limits when built (so a bad
message fails in our code, not as a Graph API error 100), :func:`payload_for` builds the
exact request body, :func:`classify_send_error` says whether a failure is worth retrying,
and :func:`backoff_delay` and :class:`Throttle` compute waits from the time and jitter
the shell passes in.

Error tree of a send (all raised by :class:`Messenger` implementations):

* :class:`TransientSendError` (a :class:`TransientError`): retry later with
  :func:`backoff_delay`, *unless* ``outcome_unknown`` is true: then the request may have
  reached Meta (timeout, connection reset) and, since Meta has no idempotency key, a
  resend may deliver the message twice. Put such a message on the review queue instead.
* :class:`PermanentSendError` (a :class:`PermanentError`): record the failure; when
  ``alert_operator`` is true the fault is ours (expired token, locked account), not the
  recipient's, and a human must act.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from core.ports import PermanentError, PortError, TransientError

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
LIST_BODY_MAX = 4096
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
CALLBACK_DATA_MAX = 512

_E164 = re.compile(r"\+?[1-9]\d{6,14}")
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


class OutboundValidationError(ValueError):
    """An outbound message breaks one of Meta's limits; the message names the field."""


def _check(name: str, value: str, maximum: int, minimum: int = 1) -> None:
    if not minimum <= len(value) <= maximum or (minimum and not value.strip()):
        raise OutboundValidationError(f"{name} must be {minimum}-{maximum} characters: {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage:
    """A plain text message; ``preview_url`` asks WhatsApp to render the first link."""

    body: str
    preview_url: bool = False

    def __post_init__(self) -> None:
        _check("text body", self.body, TEXT_MAX)


@dataclass(frozen=True, slots=True, kw_only=True)
class Button:
    """One reply button; ``id`` comes back in the customer's ``button_reply``."""

    id: str
    title: str

    def __post_init__(self) -> None:
        _check("button id", self.id, 256)
        _check("button title", self.title, BUTTON_TITLE_MAX)


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonsMessage:
    """An interactive message with one to three reply buttons."""

    body: str
    buttons: tuple[Button, ...]
    header: str | None = None
    footer: str | None = None

    def __post_init__(self) -> None:
        _check("interactive body", self.body, INTERACTIVE_BODY_MAX)
        if not 1 <= len(self.buttons) <= 3:
            raise OutboundValidationError(f"1-3 buttons allowed, got {len(self.buttons)}")
        if len({b.id for b in self.buttons}) != len(self.buttons):
            raise OutboundValidationError("button ids must be unique")
        if len({b.title for b in self.buttons}) != len(self.buttons):
            raise OutboundValidationError("button titles must be unique")
        _check_header_footer(self.header, self.footer)


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One choice of a list message; ``id`` comes back in the customer's ``list_reply``."""

    id: str
    title: str
    description: str = ""

    def __post_init__(self) -> None:
        _check("row id", self.id, 200)
        _check("row title", self.title, ROW_TITLE_MAX)
        _check("row description", self.description, ROW_DESCRIPTION_MAX, minimum=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A titled group of rows; Meta requires titles when a list has several sections."""

    title: str
    rows: tuple[Row, ...]

    def __post_init__(self) -> None:
        _check("section title", self.title, ROW_TITLE_MAX, minimum=0)
        if not self.rows:
            raise OutboundValidationError("a section needs at least one row")


@dataclass(frozen=True, slots=True, kw_only=True)
class ListMessage:
    """An interactive list: a button that opens up to ten rows in up to ten sections."""

    body: str
    button_text: str
    sections: tuple[Section, ...]
    header: str | None = None
    footer: str | None = None

    def __post_init__(self) -> None:
        _check("list body", self.body, LIST_BODY_MAX)
        _check("list button text", self.button_text, BUTTON_TITLE_MAX)
        rows = [row for section in self.sections for row in section.rows]
        if not self.sections or not 1 <= len(rows) <= 10:
            raise OutboundValidationError(f"a list needs 1-10 rows in all, got {len(rows)}")
        if len({row.id for row in rows}) != len(rows):
            raise OutboundValidationError("row ids must be unique across sections")
        if len(self.sections) > 1 and not all(s.title for s in self.sections):
            raise OutboundValidationError("every section needs a title when there are several")
        _check_header_footer(self.header, self.footer)


def _check_header_footer(header: str | None, footer: str | None) -> None:
    if header is not None:
        _check("header", header, 60)
    if footer is not None:
        _check("footer", footer, 60)


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateMessage:
    """An approved template (the only thing allowed outside the 24-hour window)."""

    name: str
    language: str  # e.g. "it"
    body_parameters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check("template name", self.name, 512)
        _check("template language", self.language, 15)
        for value in self.body_parameters:
            _check("template parameter", value, 1024)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReactionMessage:
    """An emoji reaction to a received message; an empty ``emoji`` removes it."""

    message_id: str
    emoji: str

    def __post_init__(self) -> None:
        _check("reaction message_id", self.message_id, 256)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkRead:
    """Blue ticks on a received message, optionally with the typing indicator (<= 25 s)."""

    message_id: str
    typing: bool = False

    def __post_init__(self) -> None:
        _check("read message_id", self.message_id, 256)


OutboundContent = (
    TextMessage | ButtonsMessage | ListMessage | TemplateMessage | ReactionMessage | MarkRead
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundMessage:
    """One message to send: our id (the outbox key), recipient, content, optional quote."""

    outbound_id: str
    to: str  # E.164 ("+39...") or a business-scoped user id ("IT.1234...")
    content: OutboundContent
    reply_to: str | None = None  # wamid of the message to quote

    def __post_init__(self) -> None:
        _check("outbound_id", self.outbound_id, CALLBACK_DATA_MAX)
        if not (_E164.fullmatch(self.to) or is_bsuid(self.to)):
            raise OutboundValidationError(f"recipient is neither E.164 nor a BSUID: {self.to!r}")


def is_bsuid(recipient: str) -> bool:
    """True when ``recipient`` is a business-scoped user id (``CC.alnum`` or ``CC.ENT.alnum``)."""
    return _BSUID.fullmatch(recipient) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What Meta answered: the wamid (None for mark-as-read) for our ``outbound_id``."""

    wamid: str | None
    outbound_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    """Where to download a received media item (the URL expires after about 5 minutes)."""

    url: str
    mime_type: str
    sha256: str
    file_size: int


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


def payload_for(message: OutboundMessage) -> dict[str, Any]:
    """The exact JSON body of ``POST /{phone_number_id}/messages`` for ``message``."""
    content = message.content
    if isinstance(content, MarkRead):
        read: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": content.message_id,
        }
        if content.typing:
            read["typing_indicator"] = {"type": "text"}
        return read
    kind, body = _content_json(content)
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    # BSUID recipients go in "recipient" (Meta's username rollout, 2026); phones in "to".
    payload["recipient" if is_bsuid(message.to) else "to"] = message.to
    payload["type"] = kind
    payload[kind] = body
    if message.reply_to is not None and not isinstance(content, ReactionMessage):
        payload["context"] = {"message_id": message.reply_to}
    # Meta has no idempotency key: our id comes back in every status webhook instead.
    payload["biz_opaque_callback_data"] = message.outbound_id
    return payload


def _content_json(content: OutboundContent) -> tuple[str, dict[str, Any]]:
    if isinstance(content, TextMessage):
        return "text", {"body": content.body, "preview_url": content.preview_url}
    if isinstance(content, ButtonsMessage):
        buttons = [
            {"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in content.buttons
        ]
        return "interactive", _interactive("button", content, {"buttons": buttons})
    if isinstance(content, ListMessage):
        sections = [_section_json(s) for s in content.sections]
        action = {"button": content.button_text, "sections": sections}
        return "interactive", _interactive("list", content, action)
    if isinstance(content, TemplateMessage):
        template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
        if content.body_parameters:
            params = [{"type": "text", "text": p} for p in content.body_parameters]
            template["components"] = [{"type": "body", "parameters": params}]
        return "template", template
    if isinstance(content, ReactionMessage):
        return "reaction", {"message_id": content.message_id, "emoji": content.emoji}
    raise OutboundValidationError(f"not a sendable message: {type(content).__name__}")


def _interactive(
    kind: str, content: ButtonsMessage | ListMessage, action: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind}
    if content.header is not None:
        out["header"] = {"type": "text", "text": content.header}
    out["body"] = {"text": content.body}
    if content.footer is not None:
        out["footer"] = {"text": content.footer}
    out["action"] = action
    return out


def _section_json(section: Section) -> dict[str, Any]:
    rows = [
        {"id": r.id, "title": r.title, **({"description": r.description} if r.description else {})}
        for r in section.rows
    ]
    return {"title": section.title, "rows": rows} if section.title else {"rows": rows}


def pack_texts(messages: Sequence[TextMessage]) -> tuple[TextMessage, ...]:
    """Merge consecutive texts into as few messages as fit 4096 characters, in order."""
    packed: list[TextMessage] = []
    for message in messages:
        last = packed[-1] if packed else None
        if last is not None and len(last.body) + 2 + len(message.body) <= TEXT_MAX:
            merged = f"{last.body}\n\n{message.body}"
            packed[-1] = TextMessage(
                body=merged, preview_url=last.preview_url or message.preview_url
            )
        else:
            packed.append(message)
    return tuple(packed)


def merge_texts(messages: Sequence[TextMessage]) -> TextMessage:
    """One text for a burst of replies to one user (joined by a blank line, <= 4096 chars).

    Raises :class:`OutboundValidationError` when they do not fit; use :func:`pack_texts`.
    """
    packed = pack_texts(messages)
    if len(packed) != 1:
        raise OutboundValidationError(f"{len(messages)} texts do not fit in one message")
    return packed[0]


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
