"""Ranking products for a customer's question: relevance first, then what is in stock.

Relevance is :func:`core.nlu.matching.score` over the question's product words (name,
tags, description, IDF-weighted, typo tolerant). At equal relevance, products in stock
come first, then those whose name the question covers best, then catalogue order.
Words the customer excludes (``non voglio portarlo a toelettare``) count against the
products they name: their relevance is subtracted. A price limit (``sotto i 5 euro``,
:mod:`core.nlu.budget`) keeps the products within it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from core.nlu.matching import CatalogIndex, Scored, content_words, score
from core.understanding import ProductHit

MIN_RELEVANCE = 0.1


def rank(
    index: CatalogIndex, words: tuple[str, ...], limit: int = 3, avoid: tuple[str, ...] = ()
) -> tuple[ProductHit, ...]:
    """The ``limit`` best products for ``words`` (already content words), minus ``avoid``."""
    if limit <= 0:
        return ()
    ranked = [s for s in _less(score(index, words), index, avoid) if s.score >= MIN_RELEVANCE]
    ranked.sort(
        key=lambda s: (
            -round(s.score, 4),
            not index.in_stock[s.index],
            -s.cover,
            s.index,
        )
    )
    return tuple(
        ProductHit(product_id=index.products[s.index].id, score=round(min(s.score, 1.0), 4))
        for s in ranked[:limit]
    )


def rank_within(
    index: CatalogIndex,
    words: tuple[str, ...],
    limit: int,
    avoid: tuple[str, ...] = (),
    cap: Decimal | None = None,
) -> tuple[ProductHit, ...]:
    """:func:`rank`, keeping the products priced within ``cap`` when any of them is relevant.

    A question that names nothing but a price (``cosa avete sotto i 5 euro?``) gets the
    products within it, in stock first, then the dearest first (the most the money buys).
    A question whose products all cost more keeps them: the answer says their price.
    """
    if cap is None:
        return rank(index, words, limit, avoid)
    ranked = rank(index, words, len(index.products), avoid)
    price = {p.id: p.price for p in index.products}
    within = [h for h in ranked if price[h.product_id] <= cap]
    if within or ranked:
        return tuple(within or ranked)[:limit]
    order = sorted(
        (i for i, p in enumerate(index.products) if p.price <= cap),
        key=lambda i: (not index.in_stock[i], -index.products[i].price, i),
    )
    return tuple(
        ProductHit(product_id=index.products[i].id, score=MIN_RELEVANCE) for i in order[:limit]
    )


def _less(ranked: list[Scored], index: CatalogIndex, avoid: tuple[str, ...]) -> list[Scored]:
    """``ranked`` with the relevance of the excluded words taken off each product."""
    if not avoid:
        return ranked
    against = {s.index: s.score for s in score(index, avoid)}
    return [replace(s, score=s.score - against.get(s.index, 0.0)) for s in ranked]


def search_tokens(
    index: CatalogIndex, tokens: tuple[str, ...], limit: int = 3, avoid: tuple[str, ...] = ()
) -> tuple[ProductHit, ...]:
    """Rank products for already tokenised text, minus the ``avoid`` words."""
    return rank(index, content_words(tokens), limit, avoid)
