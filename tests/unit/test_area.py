"""The delivery area: parsing ``DLOOP_DELIVERY_AREA`` and the haversine distance."""

from __future__ import annotations

import pytest

from core.area import AreaError, DeliveryArea, distance_m, parse_area

DUOMO = (45.4642, 9.1900)
LINATE = (45.4491, 9.2783)  # Milano Linate airport, about 7 km east of the Duomo
ROMA_TERMINI = (41.9010, 12.5016)


def test_the_example_setting_reads_as_centre_and_radius() -> None:
    """``45.4642,9.1900,5km`` is the Duomo with 5000 m around it."""
    assert parse_area("45.4642,9.1900,5km") == DeliveryArea(
        latitude=45.4642, longitude=9.19, radius_m=5000.0
    )


@pytest.mark.parametrize(("text", "metres"), [("800m", 800.0), ("2.5 km", 2500.0), ("3KM", 3000.0)])
def test_radius_units_are_read(text: str, metres: float) -> None:
    """Metres, decimal kilometres and upper case units are accepted."""
    assert parse_area(f"45.4642,9.19,{text}").radius_m == metres


@pytest.mark.parametrize(
    "text",
    ["45.4642,9.19", "45.4642,9.19,5", "north,9.19,5km", "95,9.19,5km", "45,9,-1km", "45,9,nankm"],
)
def test_unreadable_areas_are_refused_with_a_reason(text: str) -> None:
    """Missing parts, no unit, words, out-of-range or negative values raise AreaError."""
    with pytest.raises(AreaError):
        parse_area(text)


def test_distance_to_the_same_point_is_zero() -> None:
    """A point is 0 m from itself."""
    assert distance_m(*DUOMO, *DUOMO) == 0.0


def test_distance_milan_to_rome_is_about_477_km() -> None:
    """Duomo to Roma Termini, great-circle: 477 km within 1%."""
    assert distance_m(*DUOMO, *ROMA_TERMINI) == pytest.approx(477_000, rel=0.01)


def test_a_point_outside_the_radius_is_not_contained() -> None:
    """Linate (about 7 km) is outside 5 km of the Duomo and inside 10 km."""
    assert not parse_area("45.4642,9.1900,5km").contains(*LINATE)
    assert parse_area("45.4642,9.1900,10km").contains(*LINATE)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    """A meridian degree measures 111.2 km on the mean sphere."""
    assert distance_m(45.0, 9.0, 46.0, 9.0) == pytest.approx(111_195, abs=5)


@pytest.mark.parametrize(
    ("metres", "text"), [(5000.0, "5 km"), (2500.0, "2,5 km"), (800.0, "800 m")]
)
def test_the_radius_reads_as_a_customer_would_say_it(metres: float, text: str) -> None:
    """The refusal names the radius in Italian notation."""
    assert DeliveryArea(latitude=0, longitude=0, radius_m=metres).radius_text == text
