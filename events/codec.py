"""Codec between event dataclasses and JSON-friendly dictionaries.

The encoding is driven by the dataclass field types, so a round trip is exact:

* ``Decimal`` is stored as its string (``"18.90"`` keeps its two places);
* ``datetime`` must be timezone-aware and is stored as ISO 8601 with its offset;
* ``UUID`` as its canonical string; ``tuple[X, ...]`` as a JSON list;
* nested frozen dataclasses as objects; ``StrEnum``/``IntEnum`` by value;
* ``Mapping``/``JsonValue`` fields (raw Meta JSON, for instance) pass through as they are.

Decoding stored rows goes through :func:`decode_payload`, which first upcasts old schema
versions (:mod:`events.upcasting`) and raises :class:`~events.errors.EventDecodeError`
subclasses that name the position and type.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events.base import JsonValue, event_class
from events.decoders import (
    FAILURES,
    Convert,
    build,
    decoder_for,
    element_hint,
    fields_of,
    optional_of,
    type_hints,
    value_hint,
)
from events.errors import CorruptEventError, SchemaTooNewError, UnknownEventTypeError
from events.upcasting import upcast


class EncodeError(TypeError):
    """A value cannot be stored as JSON (a naive datetime, a float where Decimal is due...)."""


def encode_payload(payload: Any) -> dict[str, JsonValue]:
    """The JSON object stored in the ``data`` column for an event instance."""
    encoder = _ENCODERS.get(type(payload))
    if encoder is None:
        if not dataclasses.is_dataclass(payload) or isinstance(payload, type):
            raise EncodeError(f"{payload!r} is not an event instance")
        encoder = _encoder(type(payload))
    encoded: dict[str, JsonValue] = encoder(payload)
    return encoded


def _encode_datetime(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise EncodeError(f"naive datetime {value!r}: events need timezone-aware times")
    return value.isoformat()


# Exact types whose encoding does not depend on the field's type hint.
_EXACT: dict[type[Any], Callable[[Any], JsonValue]] = {
    Decimal: str,
    datetime: _encode_datetime,
    UUID: str,
}
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _encode_field(value: Any, hint: Any) -> JsonValue:
    """One field's value: exact str/int/bool/float/None as themselves, else by type."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple and not value:  # an empty tuple field (no contacts, no errors...)
        return []
    exact = _EXACT.get(kind)
    return exact(value) if exact is not None else _encode(value, hint)


def _encode_strings(value: tuple[Any, ...], hint: Any) -> JsonValue:
    """A tuple of exact strings as a list (anything else the general way)."""
    for item in value:
        if type(item) is not str:
            return _encode(value, hint)
    return list(value)


# Encoders (decoders: :mod:`events.decoders`) are generated once per class from its field
# types (as ``dataclasses`` generates ``__init__``): straight-line code per field, no loop
# over a plan, with the commonest types checked inline and everything else handed to the same
# general functions, so the results are those of a walk over the type hints.
_ENCODERS: dict[type[Any], Convert] = {}
_INLINE_ENCODE = {  # hint -> expression for ``v`` when ``type(v)`` is exactly that type
    str: ("str", "{v}"),
    int: ("int", "{v}"),
    Decimal: ("_Decimal", "str({v})"),
    datetime: ("_datetime", "_encode_dt({v})"),
}


def _encoder(cls: type[Any]) -> Convert:
    encoder = _ENCODERS.get(cls)
    if encoder is None:
        encoder = _ENCODERS[cls] = _compile_encoder(cls)
    return encoder


def _compile_encoder(cls: type[Any]) -> Convert:
    hints = type_hints(cls)
    names = [f.name for f in fields_of(cls)]
    scope: dict[str, Any] = {"_field": _encode_field, "_Decimal": Decimal, "_datetime": datetime}
    scope.update(_encode_dt=_encode_datetime, _strings=_encode_strings)
    lines = ["def encode(obj):"]
    items = []
    for i, name in enumerate(names):
        scope[f"h{i}"] = hint = hints[name]
        lines.append(f"    v{i} = obj.{name}")
        general = f"_field(v{i}, h{i})"
        inline = _INLINE_ENCODE.get(optional_of(hint) or hint)
        if hint == tuple[str, ...]:
            inline = ("tuple", f"_strings({{v}}, h{i})")
        if inline is None:
            items.append(f"{name!r}: {general}")
            continue
        kind, expr = inline
        test = f"type(v{i}) is {kind}"
        if optional_of(hint) is not None:
            test = f"v{i} is None or {test}"
            expr = f"None if v{i} is None else {expr}"
        items.append(f"{name!r}: {expr.format(v=f'v{i}')} if {test} else {general}")
    lines.append("    return {" + ", ".join(items) + "}")
    return build("encode", lines, scope)


def _encode(value: Any, hint: Any) -> JsonValue:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        return _encode_datetime(value)
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encoder(type(value))(value)
    if isinstance(value, tuple | list):
        inner = element_hint(hint)
        return [_encode(item, inner) for item in value]
    if isinstance(value, Mapping):
        inner = value_hint(hint)
        return {str(k): _encode(v, inner) for k, v in value.items()}
    raise EncodeError(f"cannot encode {type(value).__name__} value {value!r}")


def decode_payload(
    type_name: str, schema_version: int, data: Any, *, position: int | None = None
) -> Any:
    """Build the current event instance from a stored row, upcasting old versions."""
    if _opener is not None and type(data) is dict and SEALED in data:
        try:  # personal fields sealed by the store: opened by its hook (set_opener)
            data = _opener(type_name, dict(data))
        except ValueError as exc:
            raise CorruptEventError(str(exc), position=position, type_name=type_name) from exc
    current_decoder = _CURRENT.get(type_name)
    if current_decoder is not None and current_decoder[0] == schema_version and type(data) is dict:
        try:  # the common case: a stored row of the current version
            return current_decoder[1](data)
        except FAILURES as exc:
            raise _does_not_fit(exc, schema_version, position, type_name) from exc
    cls = event_class(type_name)
    if cls is None:
        raise UnknownEventTypeError("unknown event type", position=position, type_name=type_name)
    current: int = cls.VERSION
    if schema_version > current:
        raise SchemaTooNewError(
            f"schema version {schema_version} is newer than this code reads ({current})",
            position=position,
            type_name=type_name,
        )
    if not isinstance(data, dict):
        raise CorruptEventError(
            f"data must be a JSON object, got {type(data).__name__}",
            position=position,
            type_name=type_name,
        )
    try:
        decoder = decoder_for(cls)
        _CURRENT[type_name] = (current, decoder)  # names are never registered twice
        if schema_version != current:
            data = upcast(type_name, schema_version, current, data)
        return decoder(data)
    except CorruptEventError:
        raise
    except FAILURES as exc:
        raise _does_not_fit(exc, current, position, type_name) from exc


SEALED = "~"  # the stored key of sealed personal fields (never a field name)
Opener = Callable[[str, dict[str, Any]], dict[str, Any]]
_opener: Opener | None = None


def set_opener(opener: Opener | None) -> None:
    """Install the function that opens sealed personal fields (the event store's people).

    The codec stays pure: the adapter that holds the keys installs it at import.
    """
    global _opener  # noqa: PLW0603 - one hook for the process, set once by the adapter
    _opener = opener


def _does_not_fit(
    exc: Exception, version: int, position: int | None, type_name: str
) -> CorruptEventError:
    return CorruptEventError(
        f"data does not fit version {version}: {exc}", position=position, type_name=type_name
    )


_CURRENT: dict[str, tuple[int, Convert]] = {}  # type name -> (current version, decoder)


def decode_dataclass(cls: type[Any], data: Any) -> Any:
    """A plain dataclass (not an event: a stored snapshot's state) from its encoded form.

    The counterpart of :func:`encode_payload` for any dataclass; raises ``TypeError`` or
    ``ValueError`` when ``data`` does not fit ``cls``.
    """
    return decoder_for(cls)(data)
