"""The OpenAPI document matches the registered handlers, route for route."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.web.api import ROUTES
from adapters.web.api.openapi import DOCUMENT
from tests.api.conftest import Api

pytestmark = pytest.mark.e2e
METHODS = {"get", "post", "put", "patch", "delete"}


def registered(api: Api) -> set[tuple[str, str]]:
    """(method, path) of every /api route the running app serves."""
    out = set()
    for route in api.client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if path.startswith("/api"):
            out.add((route.method.lower(), path))
    return out


def documented() -> set[tuple[str, str]]:
    """(method, path) of every /api operation in the document."""
    paths = DOCUMENT["paths"].items()
    return {(m, p) for p, ops in paths if p.startswith("/api") for m in ops if m in METHODS}


async def test_every_route_is_documented_and_every_documented_route_exists(api: Api) -> None:
    """The document and the router list exactly the same operations."""
    assert registered(api) == documented()
    assert len(ROUTES) == len(documented())


def refs(node: Any) -> list[str]:
    """Every $ref in a JSON tree."""
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_every_reference_resolves() -> None:
    """No $ref points at a schema the document lacks."""
    schemas = DOCUMENT["components"]["schemas"]
    missing = {r for r in refs(DOCUMENT) if r.removeprefix("#/components/schemas/") not in schemas}
    assert missing == set()


def test_every_operation_documents_401_and_path_parameters() -> None:
    """Each operation names the auth failure and declares its {id}."""
    for path, ops in DOCUMENT["paths"].items():
        for method, op in ops.items():
            assert "401" in op["responses"], (method, path)
            if "{id}" in path:
                assert any(p["in"] == "path" and p["name"] == "id" for p in op["parameters"])


async def test_the_document_is_served_as_openapi_3_1(api: Api) -> None:
    """GET /api/openapi.json answers the document."""
    body = await api.json("/api/openapi.json", who="dealer_a")
    assert body["openapi"].startswith("3.1")
    assert set(body["paths"]) == set(DOCUMENT["paths"])
