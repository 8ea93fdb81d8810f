"""One short line per event for timelines: who, what, the few fields that matter."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from events.conversation import (
    CartProposed,
    MessageUnderstood,
    OutboundFailed,
    OutboundSent,
    ReplyQueued,
)
from events.engine import TurnProcessed
from events.whatsapp import MessageReceived, StatusReceived, WebhookReceived

WIDTH = 60  # characters of free text shown


def clip(text: str | None, width: int = WIDTH) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _message(p: MessageReceived) -> str:
    return f"{p.kind} {clip(p.text)!r}" if p.text else p.kind


def _understood(p: MessageUnderstood) -> str:
    cart = ", ".join(f"{line.quantity}x {line.product_id}" for line in p.cart)
    found = f" cart [{cart}]" if cart else ""
    model = f" {p.trace.model}" if p.trace.model else ""  # which model spoke, per turn
    return f"{p.intent} ({p.confidence:.2f}, {p.trace.engine}{model}){found}"


def _queued(p: ReplyQueued) -> str:
    return f"{p.sender.value} {p.kind.value} {clip(p.text)!r}"


def _failed(p: OutboundFailed) -> str:
    unknown = ", outcome unknown" if p.outcome_unknown else ""
    return f"{p.outbound_id[:8]} code {p.code} {clip(p.title, 40)}{unknown}"


_SUMMARIES: dict[type[Any], Callable[[Any], str]] = {
    MessageReceived: _message,
    MessageUnderstood: _understood,
    ReplyQueued: _queued,
    OutboundSent: lambda p: f"{p.outbound_id[:8]} as {p.wamid}",
    OutboundFailed: _failed,
    StatusReceived: lambda p: f"{p.status} {p.wamid}",
    CartProposed: lambda p: f"{len(p.lines)} line(s), total {p.total} {p.currency}",
    TurnProcessed: lambda p: f"{len(p.fact_ids)} fact(s), {p.decisions} decision(s)",
    WebhookReceived: lambda p: f"{p.content_type}, sha256 {p.body_sha256[:12]}",
}


_FIRST_FIELDS: dict[type, tuple[str, ...]] = {}  # the fields a generic summary shows


def summarize(payload: object) -> str:
    """A short description of ``payload``: a tailored one, else its first few fields."""
    special = _SUMMARIES.get(type(payload))
    if special is not None:
        return special(payload)
    names = _FIRST_FIELDS.get(type(payload))
    if names is None:
        if not dataclasses.is_dataclass(payload):
            return type(payload).__name__
        names = _FIRST_FIELDS[type(payload)] = tuple(
            f.name for f in dataclasses.fields(payload)[:3]
        )
    shown = []
    for name in names:
        value = getattr(payload, name)
        if isinstance(value, tuple):
            value = f"[{len(value)}]"
        shown.append(f"{name}={clip(str(value), 30)}")
    return " ".join(shown)
