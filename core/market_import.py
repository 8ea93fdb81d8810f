"""Catalogue and contact imports, pure: validate rows one by one and diff against what is
already recorded, so a re-import of the same file records nothing.

Rows come as dictionaries (the shell reads JSON or CSV); each invalid row gives a
:class:`RowError` naming the row and the field, and the valid rows are still imported.
A product row without an ``aliases`` field keeps the aliases already recorded (those a
dealer added with ``alias X = Y`` survive a re-import of an older file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.catalog import Catalog, CatalogError, Dealer, Product, parse_catalog
from core.market import Directory, upsert_of
from core.phones import normalize_phone
from events.market import CatalogDealerUpserted, ContactUpserted

CONTACT_TYPES = ("dealer", "rider", "support")


@dataclass(frozen=True, slots=True, kw_only=True)
class RowError:
    """Why one input row was not imported."""

    row: str  # ``dealer #0``, ``product #3``, ``line 4``...
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportPlan:
    """The events to record and the rows refused; ``unchanged`` rows need nothing."""

    events: tuple[object, ...]
    errors: tuple[RowError, ...]
    unchanged: int


def plan_catalog_import(
    dealers: Sequence[Mapping[str, Any]], products: Sequence[Mapping[str, Any]], current: Catalog
) -> ImportPlan:
    """Upserts for new or changed dealers and products, per-row errors for the rest."""
    out: list[object] = []
    errors: list[RowError] = []
    unchanged = 0
    known = {d.id for d in current.dealers}
    for index, row in enumerate(dealers):
        label = f"dealer #{index + 1}"
        try:
            dealer = _dealer(row)
        except CatalogError as exc:
            errors.append(RowError(row=label, message=_clean(str(exc))))
            continue
        known.add(dealer.id)
        if current.dealer(dealer.id) == dealer:
            unchanged += 1
            continue
        out.append(
            CatalogDealerUpserted(
                dealer_id=dealer.id, name=dealer.name, category=dealer.category, phone=dealer.phone
            )
        )
    seen: set[str] = set()
    for index, row in enumerate(products):
        label = f"product #{index + 1}"
        try:
            product = _keep_aliases(_product(row, known, seen), row, current)
        except CatalogError as exc:
            errors.append(RowError(row=label, message=_clean(str(exc))))
            continue
        if current.product(product.id) == product:
            unchanged += 1
            continue
        out.append(upsert_of(product))
    return ImportPlan(events=tuple(out), errors=tuple(errors), unchanged=unchanged)


def _dealer(row: Mapping[str, Any]) -> Dealer:
    [dealer] = parse_catalog({"dealers": [row]}).dealers
    phone = normalize_phone(dealer.phone)
    if phone is None:
        raise CatalogError(f"dealer {dealer.id}: phone {dealer.phone!r} is not a valid number")
    return Dealer(id=dealer.id, name=dealer.name, category=dealer.category, phone=phone)


def _product(row: Mapping[str, Any], dealers: set[str], seen: set[str]) -> Product:
    [product] = parse_catalog({"products": [row]}).products
    if product.dealer_id not in dealers:
        raise CatalogError(f"product {product.id}: unknown dealer_id {product.dealer_id!r}")
    if product.id in seen:
        raise CatalogError(f"product {product.id}: appears twice in the file")
    seen.add(product.id)
    return product


def _keep_aliases(product: Product, row: Mapping[str, Any], current: Catalog) -> Product:
    """A row without an ``aliases`` key keeps the aliases already recorded (``alias`` command)."""
    known = current.product(product.id)
    if "aliases" in row or known is None:
        return product
    return replace(product, aliases=known.aliases)


def _clean(message: str) -> str:
    return message.replace("#0: ", ": ").replace(" #0", "")


def plan_contacts_import(
    rows: Iterable[Mapping[str, Any]], current: Directory, catalog: Catalog
) -> ImportPlan:
    """Contact upserts for new or changed rows, per-row errors for the rest."""
    out: list[object] = []
    errors: list[RowError] = []
    unchanged = 0
    for index, row in enumerate(rows):
        label = f"contact #{index + 1}"
        try:
            contact = _contact(row, catalog)
        except ValueError as exc:
            errors.append(RowError(row=label, message=str(exc)))
            continue
        if current.contacts.get(contact.phone) == contact:
            unchanged += 1
            continue
        current = current.with_contact(contact)
        out.append(contact)
    return ImportPlan(events=tuple(out), errors=tuple(errors), unchanged=unchanged)


def _contact(row: Mapping[str, Any], catalog: Catalog) -> ContactUpserted:
    raw_phone = str(row.get("phone") or "").strip()
    phone = normalize_phone(raw_phone) if raw_phone else None
    if phone is None:
        raise ValueError(f"phone {raw_phone!r} is not a valid number")
    name = str(row.get("name") or "").strip()
    if not name:
        raise ValueError("name must not be empty")
    kind = str(row.get("contact_type") or "").strip().lower()
    if kind not in CONTACT_TYPES:
        raise ValueError(f"contact_type must be one of {', '.join(CONTACT_TYPES)}, got {kind!r}")
    dealer_id = str(row.get("dealer_id") or "").strip() or None
    if kind == "dealer" and dealer_id is None:
        raise ValueError("a dealer contact needs a dealer_id")
    if dealer_id is not None and catalog.dealer(dealer_id) is None:
        raise ValueError(f"unknown dealer_id {dealer_id!r}")
    return ContactUpserted(phone=phone, name=name, contact_type=kind, dealer_id=dealer_id)
