"""Ranking products for a customer's question: relevance first, then what is in stock.

Relevance is :func:`core.nlu.matching.score` over the question's product words (name,
tags, description, IDF-weighted, typo tolerant). At equal relevance, products in stock
come first, then those whose name the question covers best, then catalogue order.
"""

from __future__ import annotations

from core.nlu.matching import CatalogIndex, content_words, score
from core.understanding import ProductHit

MIN_RELEVANCE = 0.1


def rank(index: CatalogIndex, words: tuple[str, ...], limit: int = 3) -> tuple[ProductHit, ...]:
    """The ``limit`` best products for ``words`` (already content words)."""
    if limit <= 0:
        return ()
    ranked = [s for s in score(index, words) if s.score >= MIN_RELEVANCE]
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


def search_tokens(
    index: CatalogIndex, tokens: tuple[str, ...], limit: int = 3
) -> tuple[ProductHit, ...]:
    """Rank products for already tokenised text."""
    return rank(index, content_words(tokens), limit)
