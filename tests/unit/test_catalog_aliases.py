"""Product aliases: the catalogue format, imports, the event and its fold, matching, the command."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from adapters.market.imports import catalog_rows
from core.catalog import Catalog, CatalogError, Dealer, Product, parse_catalog
from core.dealer_commands import DealerCommand, parse_command
from core.market import apply_catalog_event, fold_catalog, product_of, upsert_of
from core.market_import import plan_catalog_import
from core.nlu import search_products, understand
from events.codec import decode_payload
from events.market import CatalogProductUpserted, ProductAliasAdded

DEALER = {"id": "d", "name": "Farmacia", "category": "pharmacy", "phone": "+393209876543"}
ROW: dict[str, Any] = {
    "id": "para",
    "dealer_id": "d",
    "name": "Paracetamolo 500 mg",
    "price": 4.5,
    "stock": 3,
}


def _catalog(**extra: Any) -> Catalog:
    return parse_catalog({"dealers": [DEALER], "products": [{**ROW, **extra}]})


def test_aliases_are_read_stripped_and_without_blanks() -> None:
    """``aliases`` is an optional list of names; blanks are dropped."""
    [product] = _catalog(aliases=[" tachipirina ", "", "efferalgan"]).products
    assert product.aliases == ("tachipirina", "efferalgan")
    assert _catalog().products[0].aliases == ()


@pytest.mark.parametrize("bad", ["tachipirina", [1, 2], {"a": "b"}])
def test_aliases_must_be_a_list_of_strings(bad: object) -> None:
    """Anything else is refused with the product and the field named."""
    with pytest.raises(CatalogError, match="product para: aliases must be a list of strings"):
        _catalog(aliases=bad)


def test_import_reports_bad_aliases_and_keeps_the_good_rows() -> None:
    """One bad row is an error; the valid row is still recorded with its aliases."""
    rows = [{**ROW, "aliases": "tachipirina"}, {**ROW, "id": "para2", "aliases": ["panadol"]}]
    plan = plan_catalog_import([DEALER], rows, Catalog())
    assert [(e.row, e.message) for e in plan.errors] == [
        ("product #1", "product para: aliases must be a list of strings")
    ]
    upserts = [e for e in plan.events if isinstance(e, CatalogProductUpserted)]
    assert [(e.product_id, e.aliases) for e in upserts] == [("para2", ("panadol",))]


def test_a_row_without_aliases_keeps_the_recorded_ones() -> None:
    """A re-import of an older file does not drop aliases dealers added."""
    current = _catalog().with_alias("para", "tachipirina")
    assert plan_catalog_import([DEALER], [dict(ROW)], current).events == ()
    cleared = plan_catalog_import([DEALER], [{**ROW, "aliases": []}], current).events
    assert [e.aliases for e in cleared if isinstance(e, CatalogProductUpserted)] == [()]


def test_csv_aliases_column_is_split_like_tags() -> None:
    """``tachipirina|efferalgan`` in a CSV cell is two aliases; no column, no key."""
    text = (
        "id,dealer_id,name,price,stock,aliases\npara,d,Paracetamolo,4.5,3,tachipirina|efferalgan\n"
    )
    _, [row] = catalog_rows(list(csv.DictReader(io.StringIO(text))))
    assert row["aliases"] == ["tachipirina", "efferalgan"]
    _, [plain] = catalog_rows([{"id": "para", "dealer_id": "d", "name": "P", "stock": "1"}])
    assert "aliases" not in plain


def test_a_v1_upsert_reads_with_no_aliases() -> None:
    """Events recorded before aliases existed are upcast with none."""
    v1 = {
        "product_id": "para",
        "dealer_id": "d",
        "name": "Paracetamolo 500 mg",
        "description": "",
        "price": "4.50",
        "stock": 3,
        "tags": [],
        "retailer_id": None,
    }
    payload = decode_payload(CatalogProductUpserted.TYPE, 1, v1)
    assert isinstance(payload, CatalogProductUpserted)
    assert payload.aliases == ()


def test_upsert_and_product_round_trip_with_aliases() -> None:
    """The event states the aliases and folds back to the same product."""
    product = _catalog(aliases=["tachipirina"]).products[0]
    assert product_of(upsert_of(product)) == product


def test_alias_added_folds_once_whatever_its_case() -> None:
    """The same alias twice (any case) is kept once; an unknown product is ignored."""
    added = [
        ProductAliasAdded(product_id="para", dealer_id="d", alias="Panadol", by="+39"),
        ProductAliasAdded(product_id="para", dealer_id="d", alias="panadol", by="+39"),
    ]
    catalog = fold_catalog(_catalog(), added)
    assert catalog.products[0].aliases == ("Panadol",)
    ghost = ProductAliasAdded(product_id="nope", dealer_id="d", alias="x", by="+39")
    assert apply_catalog_event(catalog, ghost) is catalog


def test_an_alias_is_found_like_the_name() -> None:
    """A brand name known only as an alias finds the product, in a cart and a search."""
    shelf = Catalog.of(
        [Dealer(id="d", name="F", category="pharmacy", phone="+390000000")],
        [
            Product(id="para", dealer_id="d", name="Paracetamolo 500 mg", price=Decimal(4),
                    stock=3, aliases=("tachipirina",)),
            Product(id="ibu", dealer_id="d", name="Ibuprofene 200 mg", price=Decimal(5), stock=3),
        ],
    )  # fmt: skip
    assert [
        (line.product_id, line.quantity) for line in understand("2 tachipirine", shelf).cart
    ] == [("para", 2)]
    assert [hit.product_id for hit in search_products("tachipirina", shelf)] == ["para"]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("alias tachipirina = paracetamolo",
         DealerCommand(verb="alias", alias="tachipirina", product="paracetamolo")),
        ("ALIAS «pummarola» = passata di pomodoro",
         DealerCommand(verb="alias", alias="pummarola", product="passata di pomodoro")),
        ("sinonimo sabbietta=lettiera",
         DealerCommand(verb="alias", alias="sabbietta", product="lettiera")),
        ("alias tachipirina paracetamolo", DealerCommand(verb="alias", problem="alias")),
        ("alias = paracetamolo", DealerCommand(verb="alias", problem="alias")),
        ("alias tachipirina =", DealerCommand(verb="alias", problem="alias")),
        ("alias " + "x" * 41 + " = paracetamolo", DealerCommand(verb="alias", problem="alias")),
    ],
)  # fmt: skip
def test_the_alias_command_is_read(text: str, command: DealerCommand) -> None:
    """``alias <nome> = <prodotto>``; a missing part or an over-long name is a usage problem."""
    assert parse_command(text) == command
