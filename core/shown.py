"""What the last product answer showed, folded from the recorded reading (no new event).

A product question ("avete la tachipirina?") is answered with the products its recorded
``MessageUnderstood`` found. :func:`after_reading` keeps those ids so that the next turn
("me ne dai 2", "il primo") can order from them (:mod:`core.followup`). The memory is
forgotten when the conversation moves on: a reading of another turn after the one that
followed the answer, a cart proposed or a choice list asked (see ``core.conversation``),
or :data:`KEEP_FOR` after the question. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from events.conversation import MessageUnderstood

KEEP_FOR = timedelta(hours=2)  # a follow-up later than this is a new conversation
_INQUIRY = "product_inquiry"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shown:
    """The products one product answer listed, in the order it listed them."""

    product_ids: tuple[str, ...]
    wamids: tuple[str, ...]  # the question's messages
    at: datetime | None  # when the question was asked
    next_turn: tuple[str, ...] | None = None  # the messages of the turn that followed


def after_reading(shown: Shown | None, e: MessageUnderstood, at: datetime | None) -> Shown | None:
    """``shown`` after one more recorded reading: a product answer replaces it; the first
    other turn's reading keeps it (that turn may be the follow-up); a later one drops it."""
    wamids = tuple(e.wamids)
    if e.intent == _INQUIRY and e.products:
        ids = tuple(p.product_id for p in e.products)
        return Shown(product_ids=ids, wamids=wamids, at=at)
    if shown is None or wamids == shown.wamids:
        return shown
    if shown.next_turn is None:
        return replace(shown, next_turn=wamids)
    return shown if shown.next_turn == wamids else None


def usable(shown: Shown | None, wamids: tuple[str, ...], at: datetime) -> Shown | None:
    """``shown`` when the turn of ``wamids`` at ``at`` may still order from it, else None."""
    if shown is None or wamids == shown.wamids:
        return None
    if shown.next_turn is not None and shown.next_turn != wamids:
        return None
    if shown.at is not None and at - shown.at > KEEP_FOR:
        return None
    return shown
