"""Cart pricing from the catalogue: exact Decimal totals, one share per dealer.

Shared by the conversation (the priced cart a customer confirms) and the order relay
(one relay per dealer). Unknown products and quantities below one raise
:class:`PricingError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.catalog import Catalog
from core.understanding import CartLine
from events.conversation import PricedLine


class PricingError(ValueError):
    """A cart line names a product the catalogue does not have, or a bad quantity."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PricedCart:
    """Cart lines with catalogue unit prices, line totals and the exact total."""

    lines: tuple[PricedLine, ...]
    total: Decimal


def price_cart(lines: Iterable[CartLine], catalog: Catalog) -> PricedCart:
    """Price ``lines`` from ``catalog`` with Decimal arithmetic; raises :class:`PricingError`."""
    priced: list[PricedLine] = []
    for line in lines:
        product = catalog.product(line.product_id)
        if product is None:
            raise PricingError(f"unknown product {line.product_id!r}")
        if line.quantity < 1:
            raise PricingError(f"quantity of {line.product_id!r} must be >= 1")
        total = product.price * line.quantity
        priced.append(
            PricedLine(
                product_id=product.id,
                dealer_id=product.dealer_id,
                name=product.name,
                quantity=line.quantity,
                unit_price=product.price,
                line_total=total,
            )
        )
    return PricedCart(lines=tuple(priced), total=sum_lines(priced))


def sum_lines(lines: Iterable[PricedLine]) -> Decimal:
    """The exact sum of line totals (``0.00`` for none)."""
    return sum((line.line_total for line in lines), Decimal("0.00"))


def split_by_dealer(
    cart_lines: Iterable[CartLine], catalog: Catalog
) -> tuple[tuple[str, tuple[CartLine, ...]], ...]:
    """``(dealer_id, lines)`` per dealer, in order of first appearance; unknown products raise."""
    shares: dict[str, list[CartLine]] = {}
    for line in cart_lines:
        product = catalog.product(line.product_id)
        if product is None:
            raise PricingError(f"unknown product {line.product_id!r}")
        shares.setdefault(product.dealer_id, []).append(line)
    return tuple((dealer, tuple(lines)) for dealer, lines in shares.items())
