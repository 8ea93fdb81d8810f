"""Product search ranking for questions."""

from __future__ import annotations

from decimal import Decimal

from core.catalog import Catalog, Dealer, Product
from core.nlu import search_products


def _p(pid: str, name: str, stock: int = 5, tags: tuple[str, ...] = ()) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal("1.00"), stock=stock, tags=tags)


CATALOG = Catalog.of(
    [Dealer(id="d", name="Negozio", category="pets", phone="+390000000")],
    [
        _p("gatto-esaurito", "Crocchette per gatto", stock=0),
        _p("gatto", "Crocchette per gatto", stock=3),
        _p("cane", "Crocchette per cane"),
        _p("lettiera", "Lettiera", tags=("gatto",)),
        _p("guinzaglio", "Guinzaglio in nylon"),
    ],
)


def _ids(query: str, limit: int = 3) -> list[str]:
    return [hit.product_id for hit in search_products(query, CATALOG, limit)]


def test_most_relevant_first() -> None:
    """The product named for every word of the question comes first."""
    assert _ids("avete crocchette per gatti?")[0] in {"gatto", "gatto-esaurito"}


def test_in_stock_first_at_equal_relevance() -> None:
    """Of two equally relevant products, the one in stock comes first."""
    assert _ids("crocchette gatto")[:2] == ["gatto", "gatto-esaurito"]


def test_limit_caps_results() -> None:
    """No more than ``limit`` hits come back."""
    assert len(_ids("crocchette", limit=2)) == 2


def test_scores_are_in_unit_range_and_descending() -> None:
    """Scores lie in [0, 1], best first."""
    hits = search_products("crocchette per gatto", CATALOG, 5)
    scores = [h.score for h in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)


def test_no_product_words_no_hits() -> None:
    """A question without product words finds nothing."""
    assert _ids("che ore sono?") == []


def test_zero_limit_gives_nothing() -> None:
    """A zero limit returns an empty tuple."""
    assert search_products("crocchette", CATALOG, 0) == ()
