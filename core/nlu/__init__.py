"""Offline Italian NLU: intent, cart and product search from one WhatsApp message.

Pure and deterministic. The catalogue index is built once per catalogue object and
kept in a small identity-keyed cache (memoisation only: the same inputs always give
the same outputs); callers that manage their own index pass it as ``index=``.
"""

from __future__ import annotations

from core.catalog import Catalog
from core.nlu.budget import price_cap
from core.nlu.cart import CartReading, extract_cart
from core.nlu.intent import Signals, after_question, classify, requests
from core.nlu.matching import CatalogIndex, content_words, mentions_product
from core.nlu.normalize import tokenize
from core.nlu.numbers import read_pieces
from core.nlu.scope import apply_scope, drop_stories, excluded_tokens, refused_tokens
from core.nlu.search import rank_within, search_tokens
from core.understanding import Intent, ProductHit, Understanding

__all__ = ["CatalogIndex", "index_for", "search_products", "understand"]

INQUIRY_HITS = 5
_CACHE_SIZE = 8
_CACHE: dict[int, tuple[Catalog, CatalogIndex]] = {}


def index_for(catalog: Catalog) -> CatalogIndex:
    """The index of ``catalog``, built on first use and reused while it is cached."""
    cached = _CACHE.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    index = CatalogIndex.build(catalog)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(catalog)] = (catalog, index)
    return index


def understand(text: str, catalog: Catalog, index: CatalogIndex | None = None) -> Understanding:
    """Read one customer message: its intent, the cart it asks for, or the products asked about."""
    idx = index if index is not None else index_for(catalog)
    tokens = tokenize(text)
    wanted = apply_scope(tokens)
    asked = drop_stories(wanted)
    reading = _cart(tokens, wanted, idx)
    words = content_words(wanted)
    signals = Signals(
        mentions_product=mentions_product(idx, content_words(asked)),
        names_product=mentions_product(idx, words),
        explicit_items=reading.explicit,
        items=len(reading.lines) + len(reading.unresolved),
    )
    intent, confidence = classify(tokens, signals, idx.knows)
    if intent is Intent.ORDER_REQUEST:
        reading = _ordered_after_question(tokens, idx) or reading
        return Understanding(
            intent=intent, confidence=confidence, cart=reading.lines, unresolved=reading.unresolved
        )
    if intent is Intent.PRODUCT_INQUIRY:
        avoid = content_words(excluded_tokens(tokens))
        hits = rank_within(idx, words, INQUIRY_HITS, avoid, price_cap(tokens))
        return Understanding(intent=intent, confidence=confidence, products=hits)
    return Understanding(intent=intent, confidence=confidence)


def _cart(tokens: tuple[str, ...], wanted: tuple[str, ...], idx: CatalogIndex) -> CartReading:
    """The cart ``tokens`` ask for (``wanted`` is their scope applied)."""
    refused = content_words(refused_tokens(tokens))
    return extract_cart(read_pieces(drop_stories(wanted, keep=True)), idx, refused)


def _ordered_after_question(tokens: tuple[str, ...], idx: CatalogIndex) -> CartReading | None:
    """The cart of a request that follows a question which asked for nothing (``avete la
    ricotta senza lattosio? allora prendo 2 pecorini``), when that request names products;
    a request naming none refers back (``avete la ricotta? me ne porti 2``): None."""
    start = after_question(tokens)
    if start is None or requests(tokens[:start]):
        return None
    tail = tokens[start:]
    reading = _cart(tail, apply_scope(tail), idx)
    return reading if reading.lines else None


def search_products(
    query: str, catalog: Catalog, limit: int = 3, index: CatalogIndex | None = None
) -> tuple[ProductHit, ...]:
    """Products answering ``query``, most relevant first, in stock first at equal relevance."""
    idx = index if index is not None else index_for(catalog)
    tokens = tokenize(query)
    avoid = content_words(excluded_tokens(tokens))
    return search_tokens(idx, apply_scope(tokens), limit, avoid)
