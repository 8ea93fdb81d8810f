"""Dealers, the catalogue with stock, orders and carts (a dealer sees only their own)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.readmodel.orders import CART_STAGES, ORDER_STAGES
from adapters.readmodel.queries import OrderFilter
from adapters.web.api.common import (
    READ_MODEL,
    choice_param,
    int_param,
    json_response,
    only_params,
    scope_of,
    word_param,
)
from adapters.web.keys import DEPS
from core.catalog import Dealer, Product


def _dealer(d: Dealer) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "category": d.category, "phone": d.phone}


def _product(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "dealer_id": p.dealer_id,
        "name": p.name,
        "description": p.description,
        "price": p.price,
        "stock": p.stock,
        "in_stock": p.in_stock,
        "tags": p.tags,
        "retailer_id": p.retailer_id or p.id,
    }


async def list_dealers(request: web.Request) -> web.Response:
    """``GET /api/dealers``: every dealer (a dealer token: itself)."""
    only_params(request, ())
    scope = scope_of(request)
    dealers = request.app[DEPS].catalog.dealers
    shown = [d for d in dealers if not scope.restricted or d.id == scope.dealer_id]
    return json_response({"items": [_dealer(d) for d in shown]})


async def get_catalog(request: web.Request) -> web.Response:
    """``GET /api/catalog[?dealer=ID]``: products with price and stock."""
    only_params(request, ("dealer",))
    scope = scope_of(request)
    wanted = scope.dealer_id if scope.restricted else word_param(request, "dealer")
    products = request.app[DEPS].catalog.products
    shown = [p for p in products if wanted is None or p.dealer_id == wanted]
    return json_response({"items": [_product(p) for p in shown]})


async def list_orders(request: web.Request) -> web.Response:
    """``GET /api/orders``: orders (relays from confirmation on), newest first."""
    return await _relays(request, carts=False)


async def list_carts(request: web.Request) -> web.Response:
    """``GET /api/carts``: carts being built (relays never confirmed), newest first."""
    return await _relays(request, carts=True)


async def _relays(request: web.Request, *, carts: bool) -> web.Response:
    only_params(request, ("status", "stage", "dealer", "conversation", "limit", "cursor"))
    allowed = (*CART_STAGES, "cancelled", "expired") if carts else ORDER_STAGES
    filt = OrderFilter(
        carts=carts,
        status=word_param(request, "status"),
        stage=choice_param(request, "stage", allowed),
        dealer_id=word_param(request, "dealer"),
        conversation_id=word_param(request, "conversation"),
    )
    page = await request.app[READ_MODEL].orders(
        scope_of(request),
        filt,
        limit=int_param(request, "limit", 50, 1, 200),
        cursor=request.query.get("cursor"),
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})
