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

from events.base import JsonValue, event_class, fast_constructor
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
    exact = _EXACT.get(kind)
    return exact(value) if exact is not None else _encode(value, hint)


def _encode_strings(value: tuple[Any, ...], hint: Any) -> JsonValue:
    """A tuple of exact strings as a list (anything else the general way)."""
    for item in value:
        if type(item) is not str:
            return _encode(value, hint)
    return list(value)


# Encoders and decoders are generated once per class from its field types (as
# ``dataclasses`` generates ``__init__``): straight-line code per field, no loop over a
# plan, with the commonest types checked inline and everything else handed to the same
# general functions, so the results are those of a walk over the type hints.
Convert = Callable[[Any], Any]
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
    hints = _hints(cls)
    names = [f.name for f in _fields(cls)]
    scope: dict[str, Any] = {"_field": _encode_field, "_Decimal": Decimal, "_datetime": datetime}
    scope.update(_encode_dt=_encode_datetime, _strings=_encode_strings)
    lines = ["def encode(obj):"]
    items = []
    for i, name in enumerate(names):
        scope[f"h{i}"] = hint = hints[name]
        lines.append(f"    v{i} = obj.{name}")
        general = f"_field(v{i}, h{i})"
        inline = _INLINE_ENCODE.get(_optional_of(hint) or hint)
        if hint == tuple[str, ...]:
            inline = ("tuple", f"_strings({{v}}, h{i})")
        if inline is None:
            items.append(f"{name!r}: {general}")
            continue
        kind, expr = inline
        test = f"type(v{i}) is {kind}"
        if _optional_of(hint) is not None:
            test = f"v{i} is None or {test}"
            expr = f"None if v{i} is None else {expr}"
        items.append(f"{name!r}: {expr.format(v=f'v{i}')} if {test} else {general}")
    lines.append("    return {" + ", ".join(items) + "}")
    return _build("encode", lines, scope)


def _optional_of(hint: Any) -> Any:
    """``X`` for a hint ``X | None`` (one non-None option), else None."""
    if get_origin(hint) not in (Union, types.UnionType):
        return None
    options = [a for a in get_args(hint) if a is not type(None)]
    return options[0] if len(options) == 1 and len(get_args(hint)) == 2 else None


def _build(name: str, lines: list[str], scope: dict[str, Any]) -> Convert:
    exec("\n".join(lines), scope)  # noqa: S102 - generated from the class's own field names
    function: Convert = scope[name]
    return function


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
    if _opener is not None and type(data) is dict and SEALED in data:
        try:  # personal fields sealed by the store: opened by its hook (set_opener)
            data = _opener(type_name, dict(data))
        except ValueError as exc:
            raise CorruptEventError(str(exc), position=position, type_name=type_name) from exc
    current_decoder = _CURRENT.get(type_name)
    if current_decoder is not None and current_decoder[0] == schema_version and type(data) is dict:
        try:  # the common case: a stored row of the current version
            return current_decoder[1](data)
        except _FAILURES as exc:
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
        decoder = _decoder(cls)
        _CURRENT[type_name] = (current, decoder)  # names are never registered twice
        if schema_version != current:
            data = upcast(type_name, schema_version, current, data)
        return decoder(data)
    except CorruptEventError:
        raise
    except _FAILURES as exc:
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


_DECODERS: dict[type[Any], Convert] = {}
_CURRENT: dict[str, tuple[int, Convert]] = {}  # type name -> (current version, decoder)


def _decoder(cls: type[Any]) -> Convert:
    decoder = _DECODERS.get(cls)
    if decoder is None:
        decoder = _DECODERS[cls] = _compile_dataclass(cls)
    return decoder


# Inline checks for the commonest field types (the converter is called only on a miss,
# to raise or to accept a subclass exactly as it would on its own).
_INLINE_DECODE = {str: "type(x{i}) is not str", int: "type(x{i}) is not int"}


def _compile_dataclass(cls: type[Any]) -> Convert:
    """A decoder for ``cls``: missing, unknown and mistyped fields raise, as documented."""
    hints = _hints(cls)
    fields = _fields(cls)
    scope: dict[str, Any] = {"_cls": cls, "_names": frozenset(f.name for f in fields)}
    scope.update(_Mapping=Mapping, _dict=dict, _name=cls.__name__)
    lines = [
        "def decode(data):",
        "    if type(data) is not _dict and not isinstance(data, _Mapping):",
        "        raise TypeError(f'{_name} expects an object, got {type(data).__name__}')",
        "    n = 0",
    ]
    for i, f in enumerate(fields):
        lines += _field_lines(i, f, hints[f.name], scope)
    lines += [
        "    if n != len(data) and (unknown := set(data) - _names):",
        "        raise ValueError(f'unknown fields {sorted(unknown)}')",
    ]
    scope["_make"] = fast_constructor(cls)
    if scope["_make"] is not None:  # positional, in field order
        lines.append("    return _make(" + ", ".join(f"x{i}" for i in range(len(fields))) + ")")
    else:
        lines.append(
            "    return _cls(" + ", ".join(f"{f.name}=x{i}" for i, f in enumerate(fields)) + ")"
        )
    return _build("decode", lines, scope)


def _field_lines(i: int, f: dataclasses.Field[Any], hint: Any, scope: dict[str, Any]) -> list[str]:
    scope[f"c{i}"] = _compile(hint)
    optional = _optional_of(hint)
    if hint in _INLINE_DECODE:
        convert = [
            f"        if {_INLINE_DECODE[hint].format(i=i)}:",
            f"            x{i} = c{i}(x{i})",
        ]
    elif optional in _INLINE_DECODE:
        test = _INLINE_DECODE[optional].format(i=i)
        convert = [f"        if x{i} is not None and {test}:", f"            x{i} = c{i}(x{i})"]
    elif hint is Any or hint is object:
        convert = []
    else:
        convert = [f"        x{i} = c{i}(x{i})"]
    lines = [f"    if {f.name!r} in data:", f"        x{i} = data[{f.name!r}]", *convert]
    lines += ["        n += 1", "    else:"]
    if f.default is not dataclasses.MISSING:
        scope[f"d{i}"] = f.default
        return [*lines, f"        x{i} = d{i}"]
    if f.default_factory is not dataclasses.MISSING:
        scope[f"d{i}"] = f.default_factory
        return [*lines, f"        x{i} = d{i}()"]
    return [*lines, f"        raise KeyError({f'missing field {f.name!r}'!r})"]


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
    if inner is _decode_str:  # ``tuple[str, ...]``: check the items, keep them

        def strings(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            for item in value:
                if type(item) is not str:
                    _decode_str(item)
            return tuple(value)

        return strings

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
    if issubclass(hint, enum.Enum):
        return _compile_enum(hint)
    simple = _SIMPLE.get(hint)
    return simple if simple is not None else _unsupported(hint)


def _compile_enum(hint: type[enum.Enum]) -> Convert:
    """``hint(value)``, with the stored values looked up directly (a call costs ~2 us)."""
    members = dict(hint._value2member_map_)

    def convert(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):  # not a plain stored value: the class decides
            return hint(value)

    return convert


def _decode_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _decode_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _decode_decimal(value: Any) -> Decimal:
    if not isinstance(value, str | int):
        raise TypeError(f"Decimal is stored as a string, got {value!r}")
    return Decimal(value)


def _decode_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"datetime is stored as a string, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}")
    return parsed


def _decode_uuid(value: Any) -> UUID:
    return UUID(str(value))


def _decode_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {value!r}")
    return value


def _decode_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


_SIMPLE: dict[type[Any], Convert] = {
    str: _decode_str,
    int: _decode_int,
    Decimal: _decode_decimal,
    datetime: _decode_datetime,
    UUID: _decode_uuid,
    bool: _decode_bool,
    float: _decode_float,
}


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


def decode_dataclass(cls: type[Any], data: Any) -> Any:
    """A plain dataclass (not an event: a stored snapshot's state) from its encoded form.

    The counterpart of :func:`encode_payload` for any dataclass; raises ``TypeError`` or
    ``ValueError`` when ``data`` does not fit ``cls``.
    """
    return _decoder(cls)(data)
