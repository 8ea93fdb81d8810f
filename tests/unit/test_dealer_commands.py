"""Dealer command parsing (pure): case and typo tolerant, arguments read or reported missing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.catalog import Product
from core.dealer_commands import DealerCommand, match_product, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ORDINI", DealerCommand(verb="ordini")),
        ("ordni", DealerCommand(verb="ordini")),
        ("Stato 12", DealerCommand(verb="stato", number=12)),
        ("stao", DealerCommand(verb="stato", problem="numero")),
        ("Acceta 3", DealerCommand(verb="accetta", number=3)),
        (
            "rifiuta 4 manca la merce",
            DealerCommand(verb="rifiuta", number=4, reason="manca la merce"),
        ),
        ("rifiuto: chiuso oggi", DealerCommand(verb="rifiuta", reason="chiuso oggi")),
        (
            "disponbile crocchette cane 10",
            DealerCommand(verb="disponibile", product="crocchette cane", quantity=10),
        ),
        ("disponibile lettiera", DealerCommand(verb="disponibile", problem="quantità")),
        ("esaurto lettiera", DealerCommand(verb="esaurito", product="lettiera")),
        ("esaurito", DealerCommand(verb="esaurito", problem="prodotto")),
        ("Aiuto", DealerCommand(verb="aiuto")),
        ("buongiorno", DealerCommand(verb="sconosciuto")),
        ("", DealerCommand(verb="sconosciuto")),
    ],
)
def test_commands_are_read_tolerantly(text: str, expected: DealerCommand) -> None:
    """Each dealer text reads as the expected command."""
    assert parse_command(text) == expected


def test_buttons_carry_the_relay_id() -> None:
    """The Rifiuta button names its relay."""
    assert parse_command("Rifiuta", "order:reject:r-1") == DealerCommand(
        verb="rifiuta", relay_id="r-1"
    )


def _product(pid: str, name: str) -> Product:
    return Product(id=pid, dealer_id="d", name=name, price=Decimal("1.00"), stock=1)


def test_products_match_by_words_and_ambiguity_is_reported() -> None:
    """One clear match is returned alone; two equally good ones both."""
    dog = _product("p-cane", "Crocchette per cane adulto 3 kg")
    cat = _product("p-gatto", "Crocchette per gatto 1,5 kg")
    assert match_product("crocchette cane", [dog, cat]) == (dog,)
    assert set(match_product("crocchette", [dog, cat])) == {dog, cat}
    assert match_product("p-gatto", [dog, cat]) == (cat,)
    assert match_product("shampoo", [dog, cat]) == ()
