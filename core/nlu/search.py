"""Ranking products for a customer's question: relevance first, then what is in stock.

Relevance is :func:`core.nlu.matching.score` over the question's product words (name,
tags, description, IDF-weighted, typo tolerant). At equal relevance, products in stock
come first, then those whose name the question covers best, then catalogue order.
Words the customer excludes (``non voglio portarlo a toelettare``) count against the
products they name: their relevance is subtracted.
"""

from __future__ import annotations

from dataclasses import replace

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
