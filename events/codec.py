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
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Union, get_args, get_origin
from uuid import UUID

from events.base import JsonValue, event_class
from events.errors import CorruptEventError, SchemaTooNewError, UnknownEventTypeError
from events.upcasting import upcast


class EncodeError(TypeError):
    """A value cannot be stored as JSON (a naive datetime, a float where Decimal is due...)."""


def encode_payload(payload: Any) -> dict[str, JsonValue]:
    """The JSON object stored in the ``data`` column for an event instance."""
    if not dataclasses.is_dataclass(payload) or isinstance(payload, type):
        raise EncodeError(f"{payload!r} is not an event instance")
    return _encode_dataclass(payload)


def _encode_dataclass(obj: Any) -> dict[str, JsonValue]:
    hints = _hints(type(obj))
    return {f.name: _encode(getattr(obj, f.name), hints[f.name]) for f in _fields(type(obj))}


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
        if value.tzinfo is None or value.utcoffset() is None:
            raise EncodeError(f"naive datetime {value!r}: events need timezone-aware times")
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode_dataclass(value)
    if isinstance(value, tuple | list):
        inner = _element_hint(hint)
        return [_encode(item, inner) for item in value]
    if isinstance(value, Mapping):
        inner = _value_hint(hint)
        return {str(k): _encode(v, inner) for k, v in value.items()}
    raise EncodeError(f"cannot encode {type(value).__name__} value {value!r}")


def decode_payload(
    type_name: str, schema_version: int, data: Any, *, position: int | None = None
) -> Any:
    """Build the current event instance from a stored row, upcasting old versions."""
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
        data = upcast(type_name, schema_version, current, data)
        return _decode_dataclass(cls, data)
    except CorruptEventError:
        raise
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise CorruptEventError(
            f"data does not fit version {current}: {exc}", position=position, type_name=type_name
        ) from exc


def _decode_dataclass(cls: type[Any], data: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__} expects an object, got {type(data).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in _fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(data[f.name], hints[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise KeyError(f"missing field {f.name!r}")
    unknown = set(data) - {f.name for f in _fields(cls)}
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    return cls(**kwargs)


def _decode(value: Any, hint: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        for option in options:
            try:
                return _decode(value, option)
            except (TypeError, ValueError, KeyError, InvalidOperation):
                continue
        raise TypeError(f"{value!r} fits none of {options}")
    if hint is Any or hint is object:
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return tuple(_decode(item, _element_hint(hint)) for item in value)
    if origin in (dict, Mapping, typing.Mapping) or hint in (dict, Mapping):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        inner = _value_hint(hint)
        return {k: _decode(v, inner) for k, v in value.items()}
    if isinstance(hint, type):
        return _decode_simple(value, hint)
    raise TypeError(f"unsupported field type {hint!r}")


def _decode_simple(value: Any, hint: type[Any]) -> Any:
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(hint, value)
    if issubclass(hint, enum.Enum):
        return hint(value)
    if hint is Decimal:
        if not isinstance(value, str | int):
            raise TypeError(f"Decimal is stored as a string, got {value!r}")
        return Decimal(value)
    if hint is datetime:
        if not isinstance(value, str):
            raise TypeError(f"datetime is stored as a string, got {value!r}")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}")
        return parsed
    if hint is UUID:
        return UUID(str(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected a boolean, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported field type {hint!r}")


def _element_hint(hint: Any) -> Any:
    args = get_args(hint)
    return args[0] if args else Any


def _value_hint(hint: Any) -> Any:
    args = get_args(hint)
    return args[1] if len(args) == 2 else Any


_HINTS: dict[type[Any], dict[str, Any]] = {}
_FIELDS: dict[type[Any], tuple[dataclasses.Field[Any], ...]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        module = __import__(cls.__module__, fromlist=["_"])
        localns = {"JsonValue": JsonValue}
        hints = _HINTS[cls] = typing.get_type_hints(cls, globalns=vars(module), localns=localns)
    return hints


def _fields(cls: type[Any]) -> tuple[dataclasses.Field[Any], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = dataclasses.fields(cls)
    return fields
