"""Event classes: the registry of stable type names and the envelope around a stored event.

An event class is a frozen, slotted, keyword-only dataclass with two class variables:
``TYPE`` (a stable dotted name, never the module path) and ``VERSION`` (its schema
version). Registering it with :func:`event` makes the codec able to find it by name.
Changing a shipped event means bumping ``VERSION`` and adding an upcaster
(:mod:`events.upcasting`), never editing the old shape in place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar
from uuid import UUID

JsonValue = Any  # a value that json.dumps accepts: dict, list, str, int, float, bool, None


class Event(Protocol):
    """What every event class provides: a stable type name and a schema version."""

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]


E = TypeVar("E", bound=type[Any])

_REGISTRY: dict[str, type[Any]] = {}


class EventDefinitionError(TypeError):
    """An event class breaks the rules above (not frozen, duplicate name, ...)."""


def event(cls: E) -> E:
    """Register ``cls`` under its ``TYPE``; a class decorator applied after ``@dataclass``."""
    if not dataclasses.is_dataclass(cls):
        raise EventDefinitionError(f"{cls.__name__} must be a dataclass")
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen:
        raise EventDefinitionError(f"{cls.__name__} must be frozen")
    type_name = getattr(cls, "TYPE", None)
    version = getattr(cls, "VERSION", None)
    if not isinstance(type_name, str) or not type_name:
        raise EventDefinitionError(f"{cls.__name__} needs a TYPE class variable")
    if not isinstance(version, int) or version < 1:
        raise EventDefinitionError(f"{cls.__name__} needs a VERSION >= 1")
    known = _REGISTRY.get(type_name)
    if known is not None and known is not cls:
        raise EventDefinitionError(f"event type {type_name!r} is registered twice")
    _REGISTRY[type_name] = cls
    return cls


def event_class(type_name: str) -> type[Any] | None:
    """The registered class for ``type_name``, or None when it is unknown."""
    return _REGISTRY.get(type_name)


def registered_events() -> Mapping[str, type[Any]]:
    """Every registered event class by type name (read-only view)."""
    return dict(_REGISTRY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    """Why and from where an event was recorded; kept beside the payload, not inside it."""

    correlation_id: str | None = None  # the delivery or request that started the chain
    causation_id: str | None = None  # the event (id) or request that caused this one
    source: str | None = None  # "webhook", "simulate", "reactor:conversation", "cli", ...
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, JsonValue]:
        """The JSON object stored in the ``metadata`` column (empty fields left out)."""
        out: dict[str, JsonValue] = {}
        if self.correlation_id is not None:
            out["correlation_id"] = self.correlation_id
        if self.causation_id is not None:
            out["causation_id"] = self.causation_id
        if self.source is not None:
            out["source"] = self.source
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, JsonValue]) -> Metadata:
        """Inverse of :meth:`to_json`; unknown keys are kept in ``extra``."""
        extra = {str(k): str(v) for k, v in dict(raw.get("extra") or {}).items()}
        for key, value in raw.items():
            if key not in {"correlation_id", "causation_id", "source", "extra"}:
                extra[str(key)] = str(value)
        return cls(
            correlation_id=_opt_str(raw.get("correlation_id")),
            causation_id=_opt_str(raw.get("causation_id")),
            source=_opt_str(raw.get("source")),
            extra=extra,
        )


def _opt_str(value: JsonValue) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An event about to be appended: the payload, its id (idempotency key) and metadata."""

    event_id: UUID
    payload: Any  # an instance of a registered event class
    metadata: Metadata = field(default_factory=Metadata)

    @property
    def type(self) -> str:
        """The payload's stable type name."""
        return str(self.payload.TYPE)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedEvent:
    """A stored event: the envelope the store hands back, payload decoded and upcast."""

    position: int  # global, increasing, never reused
    event_id: UUID
    stream: str
    version: int  # 1-based position inside the stream
    type: str
    schema_version: int  # the version the payload was stored with
    payload: Any  # an instance of the current class for ``type``
    metadata: Metadata
    recorded_at: datetime
