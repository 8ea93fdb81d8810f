"""Business facts from settings, and the questions about them answered offline."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from core.business_facts import ShopFacts, in_zone, is_open, next_opening, parse_fee, parse_hours
from core.business_questions import Topic, answer, topics
from core.nlu.checkout_parse import read_details
from core.nlu.when import ROME

FACTS = ShopFacts.of("lun-sab 9:00-20:00", "Milano centro", "2,90 €")


def test_hours_are_read_into_a_week_of_intervals() -> None:
    """``lun-sab 9:00-20:00``: six open days, Sunday closed; split days and ranges read too."""
    assert parse_hours("lun-sab 9:00-20:00")[0] == ((540, 1200),)
    assert parse_hours("lun-sab 9:00-20:00")[6] == ()
    split = parse_hours("lun-ven 9-13 15-19; sab 9.30-13")
    assert split[2] == ((540, 780), (900, 1140))
    assert split[5] == ((570, 780),)
    assert not any(parse_hours("sempre aperti"))


def test_the_fee_is_money() -> None:
    """``2,90 €`` -> 2.90; no amount -> None."""
    assert parse_fee("2,90 €") == Decimal("2.90")
    assert parse_fee("€ 3") == Decimal("3.00")
    assert parse_fee("gratis") is None
    assert ShopFacts.of("", "", "gratis").fee == Decimal("0.00")


def test_the_next_opening_is_proposed_after_closing_and_on_sunday() -> None:
    """Saturday 21:00 -> Monday 9:00; an open moment is its own next opening."""
    saturday_night = datetime(2026, 12, 5, 21, 0, tzinfo=ROME)
    assert not is_open(FACTS, saturday_night)
    assert next_opening(FACTS, saturday_night) == datetime(2026, 12, 7, 9, 0, tzinfo=ROME)
    open_now = datetime(2026, 12, 2, 11, 0, tzinfo=ROME)
    assert next_opening(FACTS, open_now) == open_now


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("via Torino 15, Milano", True),
        ("via Torino 15", True),
        ("corso di Porta Romana 40, 20122 Milano", True),
        ("via Roma 3, scala B, Milano", True),
        ("via Roma 3, Monza", False),
        ("piazza Duomo 1, Bergamo", False),
    ],
)
def test_addresses_are_checked_against_the_zones(address: str, inside: bool) -> None:
    """A town after a comma must be among the zones' words; no town: the shop's own."""
    assert in_zone(FACTS, address) is inside


@pytest.mark.parametrize(
    ("text", "address", "inside"),
    [
        ("a Monza, via Italia 3, il prima possibile", "via Italia 3, Monza", False),
        ("abito a Rho in via Roma 1", "via Roma 1, Rho", False),
        ("via Roma 3 a Monza, domani", "via Roma 3, Monza", False),
        ("sono a Milano, via Dante 3", "via Dante 3, Milano", True),
        ("portalo a casa in via Roma 3", "via Roma 3", True),
        ("corso Como 5 a casa di mia nonna", "corso Como 5 a casa di mia nonna", True),
        ("a Sesto, via Marelli 10, domattina, cash", "via Marelli 10, Sesto", False),
        ("corso Como 5 a mezzogiorno", "corso Como 5", True),
    ],
)
def test_a_town_before_or_after_the_street_is_the_addresses_town(
    text: str, address: str, inside: bool
) -> None:
    """ "a Monza, via ..." and "via ... a Monza" name the town; "a casa" is no town."""
    found = read_details(text, datetime(2026, 12, 2, 11, 0, tzinfo=ROME)).address
    assert found == address
    assert in_zone(FACTS, address) is inside


def test_time_words_after_the_street_are_read_as_the_time() -> None:
    """ "domattina" and "a mezzogiorno" end the address and give the delivery time."""
    now = datetime(2026, 12, 2, 11, 0, tzinfo=ROME)
    morning = read_details("a Sesto, via Marelli 10, domattina, cash", now)
    assert morning.when is not None
    assert morning.when.at == datetime(2026, 12, 3, 10, 0, tzinfo=ROME)
    noon = read_details("corso Como 5 a mezzogiorno", now)
    assert noon.when is not None
    assert noon.when.at == datetime(2026, 12, 2, 12, 0, tzinfo=ROME)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ciao, a che ora aprite?", (Topic.HOURS,)),
        ("siete aperti anche il sabato?", (Topic.HOURS,)),
        ("In quali zone consegnate?", (Topic.ZONES,)),
        ("arrivate fino a Sesto?", (Topic.ZONES,)),
        ("quanto costa la consegna?", (Topic.FEE,)),
        ("le spese di spedizione quanto sono", (Topic.FEE,)),
        ("si può pagare con satispay?", (Topic.PAYMENT,)),
        ("quanto costa portarlo a casa?", (Topic.FEE,)),
        ("e di domenica?", (Topic.HOURS,)),
        ("domenica alle 10", ()),
        ("quanto mi costa farmelo consegnare", (Topic.FEE,)),
        ("vorrei due mozzarelle", ()),
        ("pago in contanti", ()),
        ("grazie mille", ()),
        ("e la sera fino a quando?", (Topic.HOURS,)),
        ("fino a che ore si può ordinare?", (Topic.HOURS,)),
    ],
)
def test_business_questions_are_recognised(text: str, expected: tuple[Topic, ...]) -> None:
    """Each topic by its own words; order and payment statements are not questions."""
    assert topics(text) == expected


def test_answers_quote_the_settings_and_the_day_asked() -> None:
    """Sunday closed, Saturday open with its hours; zones, fee and payment verbatim."""
    sunday = answer(FACTS, (Topic.HOURS,), "la domenica siete aperti?")
    assert sunday.startswith("La domenica siamo chiusi")
    assert "lun-sab 9:00-20:00" in sunday
    assert "9:00-20:00" in answer(FACTS, (Topic.HOURS,), "il sabato siete aperti?")
    assert "Milano centro" in answer(FACTS, (Topic.ZONES,), "consegnate a Monza?")
    assert "2,90 €" in answer(FACTS, (Topic.FEE,), "quanto costa la consegna?")
    assert "contanti o con carta" in answer(FACTS, (Topic.PAYMENT,), "come pago?")


def test_with_a_cart_open_the_fee_answer_gives_the_total_with_delivery() -> None:
    """ "quanto viene in tutto con la consegna?" asks for the figure, not the rule."""
    text = "quanto viene in tutto con la consegna?"
    asked = topics(text)
    assert Topic.FEE in asked
    said = answer(FACTS, asked, text, Decimal("45.00"))
    assert "€ 45,00" in said
    assert "€ 47,90" in said
    assert "€ 47,90" not in answer(FACTS, asked, text)  # no cart: the rule only
