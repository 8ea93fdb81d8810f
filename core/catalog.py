"""The catalogue as the core sees it: dealers and their products, immutable values.

Parsing from plain JSON-like data lives here (pure); reading files is the shell's job.
Prices are ``Decimal`` (never floats: totals are computed by our code, exactly).
A product's ``aliases`` are the other names customers use for it (``tachipirina`` for
paracetamolo, ``pummarola`` for passata): the NLU matches them like the name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


class CatalogError(ValueError):
    """A catalogue row is invalid; the message names the row and the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dealer:
    """A neighbourhood shop that sells through Dloop."""

    id: str
    name: str
    category: str
    phone: str  # E.164


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """One catalogue item; ``retailer_id`` is the id used by WhatsApp catalog orders."""

    id: str
    dealer_id: str
    name: str
    description: str = ""
    price: Decimal
    stock: int
    tags: tuple[str, ...] = ()
    retailer_id: str | None = None  # defaults to ``id`` when the catalogue has none
    aliases: tuple[str, ...] = ()  # other names customers use: brand, common, dialect

    @property
    def in_stock(self) -> bool:
        """True when at least one unit can be sold."""
        return self.stock > 0


@dataclass(frozen=True, slots=True)
class Catalog:
    """All dealers and products, with lookups by id and by WhatsApp retailer id."""

    dealers: tuple[Dealer, ...] = ()
    products: tuple[Product, ...] = ()
    _by_id: Mapping[str, Product] = field(default_factory=dict, repr=False, compare=False)
    _dealers: Mapping[str, Dealer] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, dealers: Iterable[Dealer], products: Iterable[Product]) -> Catalog:
        """Build a catalogue with its indexes."""
        ds, ps = tuple(dealers), tuple(products)
        return cls(ds, ps, {p.id: p for p in ps}, {d.id: d for d in ds})

    def product(self, product_id: str) -> Product | None:
        """The product with this id, or None."""
        return self._by_id.get(product_id)

    def dealer(self, dealer_id: str) -> Dealer | None:
        """The dealer with this id, or None."""
        return self._dealers.get(dealer_id)

    def by_retailer_id(self, retailer_id: str) -> Product | None:
        """The product a WhatsApp catalog order line refers to, or None."""
        for p in self.products:
            if (p.retailer_id or p.id) == retailer_id:
                return p
        return None

    def with_stock(self, product_id: str, stock: int) -> Catalog:
        """A copy with one product's stock changed (dealer stock updates)."""
        products = [
            Product(**{**_as_dict(p), "stock": stock}) if p.id == product_id else p
            for p in self.products
        ]
        return Catalog.of(self.dealers, products)

    def with_alias(self, product_id: str, alias: str) -> Catalog:
        """A copy where one product also answers to ``alias`` (once, whatever its case)."""
        products = [_with_alias(p, alias) if p.id == product_id else p for p in self.products]
        return Catalog.of(self.dealers, products)


def _with_alias(p: Product, alias: str) -> Product:
    if alias.casefold() in (a.casefold() for a in p.aliases):
        return p
    return Product(**{**_as_dict(p), "aliases": (*p.aliases, alias)})


def _as_dict(p: Product) -> dict[str, Any]:
    return {name: getattr(p, name) for name in Product.__slots__}


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    """Validate and build a catalogue from JSON shaped like ``catalog_demo.json``."""
    dealers = [_parse_dealer(i, d) for i, d in enumerate(raw.get("dealers") or [])]
    known = {d.id for d in dealers}
    products = [_parse_product(i, p, known) for i, p in enumerate(raw.get("products") or [])]
    ids = [p.id for p in products]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"duplicate product ids: {', '.join(dupes)}")
    return Catalog.of(dealers, products)


def _parse_dealer(index: int, row: Any) -> Dealer:
    if not isinstance(row, Mapping):
        raise CatalogError(f"dealer #{index}: expected an object")
    try:
        return Dealer(
            id=_text(row, "id", index, "dealer"),
            name=_text(row, "name", index, "dealer"),
            category=str(row.get("category") or ""),
            phone=_text(row, "phone", index, "dealer"),
        )
    except KeyError as exc:
        raise CatalogError(f"dealer #{index}: missing {exc}") from exc


def _parse_product(index: int, row: Any, dealers: set[str]) -> Product:
    if not isinstance(row, Mapping):
        raise CatalogError(f"product #{index}: expected an object")
    pid = _text(row, "id", index, "product")
    dealer_id = _text(row, "dealer_id", index, "product")
    if dealers and dealer_id not in dealers:
        raise CatalogError(f"product {pid}: unknown dealer_id {dealer_id!r}")
    try:
        price = Decimal(str(row["price"])).quantize(Decimal("0.01"))
    except Exception as exc:
        raise CatalogError(f"product {pid}: price must be a number") from exc
    if price < 0:
        raise CatalogError(f"product {pid}: price must not be negative")
    stock = row.get("stock", 0)
    if isinstance(stock, bool) or not isinstance(stock, int) or stock < 0:
        raise CatalogError(f"product {pid}: stock must be a whole number >= 0")
    tags = _strings(row, "tags", pid)
    aliases = _strings(row, "aliases", pid)
    return Product(
        id=pid,
        dealer_id=dealer_id,
        name=_text(row, "name", index, "product"),
        description=str(row.get("description") or ""),
        price=price,
        stock=stock,
        tags=tags,
        retailer_id=str(row["retailer_id"]) if row.get("retailer_id") else None,
        aliases=aliases,
    )


def _strings(row: Mapping[str, Any], key: str, pid: str) -> tuple[str, ...]:
    """An optional list of non-empty strings (``tags``, ``aliases``), stripped."""
    values = row.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise CatalogError(f"product {pid}: {key} must be a list of strings")
    return tuple(v.strip() for v in values if v.strip())


def _text(row: Mapping[str, Any], key: str, index: int, what: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{what} #{index}: {key!r} must be a non-empty string")
    return value.strip()
