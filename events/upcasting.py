"""Upcasters: functions that lift a stored payload from one schema version to the next.

Register one function per ``(type, from_version)``; :func:`upcast` chains them until the
payload has the current version. A missing link in the chain is a programming error and
raises ``ValueError`` naming the gap, which the codec reports with the row's position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the decorated function as the step ``from_version -> from_version + 1``."""

    def register(fn: Upcaster) -> Upcaster:
        key = (type_name, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"an upcaster for {type_name!r} v{from_version} already exists")
        _UPCASTERS[key] = fn
        return fn

    return register


def upcast(type_name: str, version: int, target: int, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` lifted from ``version`` to ``target`` through the registered chain."""
    while version < target:
        step = _UPCASTERS.get((type_name, version))
        if step is None:
            raise ValueError(f"no upcaster from version {version} to {version + 1}")
        data = step(dict(data))
        version += 1
    return data
