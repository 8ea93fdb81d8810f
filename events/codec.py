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
from collections.abc import Callable, Mapping
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
    out: dict[str, JsonValue] = {}
    for name, hint in _encode_plan(type(obj)):
        value = getattr(obj, name)
        # Exact str/int/bool/float/None encode as themselves: skip the generic dispatch.
        kind = type(value)
        if kind in _PLAIN:
            out[name] = value
        elif kind in _EXACT:
            out[name] = _EXACT[kind](value)
        else:
            out[name] = _encode(value, hint)
    return out


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
_ENCODE_PLANS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def _encode_plan(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    plan = _ENCODE_PLANS.get(cls)
    if plan is None:
        hints = _hints(cls)
        plan = _ENCODE_PLANS[cls] = tuple((f.name, hints[f.name]) for f in _fields(cls))
    return plan


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
    return _decoder(cls)(data)


# Decoders are compiled once per class from its field types: the same checks as a walk
# over the type hints, without repeating ``get_origin``/``get_args`` for every value.
Convert = Callable[[Any], Any]
_DECODERS: dict[type[Any], Convert] = {}


def _decoder(cls: type[Any]) -> Convert:
    decoder = _DECODERS.get(cls)
    if decoder is None:
        decoder = _DECODERS[cls] = _compile_dataclass(cls)
    return decoder


def _compile_dataclass(cls: type[Any]) -> Convert:
    hints = _hints(cls)
    plan = tuple(
        (
            f.name,
            _compile(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in _fields(cls)
    )
    names = frozenset(f.name for f in _fields(cls))

    def decode(data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} expects an object, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        for name, convert, required in plan:
            if name in data:
                kwargs[name] = convert(data[name])
            elif required:
                raise KeyError(f"missing field {name!r}")
        if len(kwargs) != len(data) and (unknown := set(data) - names):
            raise ValueError(f"unknown fields {sorted(unknown)}")
        return cls(**kwargs)

    return decode


def _compile(hint: Any) -> Convert:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _compile_union(hint)
    if hint is Any or hint is object:
        return _identity
    if origin is tuple:
        return _compile_tuple(_compile(_element_hint(hint)))
    if origin in (dict, Mapping, typing.Mapping) or hint in (dict, Mapping):
        return _compile_mapping(_compile(_value_hint(hint)))
    if isinstance(hint, type):
        return _compile_simple(hint)
    return _unsupported(hint)


def _identity(value: Any) -> Any:
    return value


def _unsupported(hint: Any) -> Convert:
    def convert(_value: Any) -> Any:
        raise TypeError(f"unsupported field type {hint!r}")

    return convert


_FAILURES = (TypeError, ValueError, KeyError, InvalidOperation)


def _compile_union(hint: Any) -> Convert:
    options = [a for a in get_args(hint) if a is not type(None)]
    converters = [_compile(option) for option in options]

    def convert(value: Any) -> Any:
        if value is None:
            return None
        for option in converters:
            try:
                return option(value)
            except _FAILURES:
                continue
        raise TypeError(f"{value!r} fits none of {options}")

    if options == [str]:  # the commonest field: ``str | None``

        def optional_str(value: Any) -> Any:
            return value if value is None or isinstance(value, str) else convert(value)

        return optional_str
    return convert


def _compile_tuple(inner: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return tuple([inner(item) for item in value])

    return convert


def _compile_mapping(inner: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        return {k: inner(v) for k, v in value.items()}

    return convert


def _compile_simple(hint: type[Any]) -> Convert:
    if dataclasses.is_dataclass(hint):

        def nested(value: Any) -> Any:
            return _decoder(hint)(value)  # looked up late: a class may nest itself

        return nested
    if hint is str:
        return _decode_str
    if hint is int:
        return _decode_int
    return lambda value: _decode_simple(value, hint)


def _decode_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _decode_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


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
