"""Outbound WhatsApp messages as values and their Graph API JSON.

Everything here is pure: message values validate Meta's limits when built (so a bad
message fails in our code, not as a Graph API error 100), :func:`payload_for` builds the
exact request body, and :func:`pack_texts` / :func:`merge_texts` join a burst of texts.
What a failed send means is in :mod:`core.send_errors`; the pacing of sends (token
buckets) in :mod:`core.pacing`; the sending policy as a whole in :mod:`core.outbox`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
