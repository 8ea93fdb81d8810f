"""Event classes used only by the store tests (type names start with ``test.``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from events.base import event


@event
@dataclass(frozen=True, slots=True, kw_only=True)
class Noted:
    """A note was taken: the simplest event, for store tests."""

    TYPE = "test.noted"
    VERSION = 1

    text: str
    amount: Decimal = Decimal("0")
    at: datetime | None = None
    tags: tuple[str, ...] = ()
