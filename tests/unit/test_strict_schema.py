"""The strict JSON schema sent for structured outputs, built without the SDK's helpers."""

from __future__ import annotations

import json
from typing import Any

import pydantic

from adapters.assistant.reading import READING_FORMAT, strict_schema


class _Inner(pydantic.BaseModel):
    title: str  # a field named like a schema keyword must survive
    count: int


class _Outer(pydantic.BaseModel):
    name: str
    inner: _Inner
    items: list[_Inner]


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def test_every_object_requires_all_its_properties_and_no_others() -> None:
    schema = strict_schema(_Outer)
    objects = _objects(schema)
    assert len(objects) == 2  # _Outer and the shared definition of _Inner
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert set(schema["$defs"]["_Inner"]["properties"]) == {"title", "count"}


def test_the_reading_format_is_strict_and_names_every_field() -> None:
    assert READING_FORMAT["type"] == "json_schema"
    assert READING_FORMAT["json_schema"]["strict"] is True
    schema = READING_FORMAT["json_schema"]["schema"]
    assert schema["required"] == [
        "intent",
        "confidence",
        "cart",
        "unresolved",
        "products",
        "cart_operations",
        "cart_reply",
        "topic",
        "delivery",
    ]
    assert "default" not in json.dumps(schema)
    assert schema["properties"]["intent"]["enum"] == [
        "order_request",
        "product_inquiry",
        "support_request",
        "general_chat",
    ]
