"""The errors raised while turning stored rows back into events."""

from __future__ import annotations


class EventDecodeError(ValueError):
    """A stored row cannot become an event; names the position and type."""

    def __init__(self, message: str, *, position: int | None, type_name: str) -> None:
        where = f"position {position}" if position is not None else "unsaved event"
        super().__init__(f"{where}, type {type_name!r}: {message}")
        self.position = position
        self.type_name = type_name


class UnknownEventTypeError(EventDecodeError):
    """The row's type name is not registered by this version of the code."""


class SchemaTooNewError(EventDecodeError):
    """The row was written by newer code than this one (a schema version we cannot read)."""


class CorruptEventError(EventDecodeError):
    """The row's data does not fit the event's shape (missing field, wrong type, bad JSON)."""
