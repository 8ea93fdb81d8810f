"""Delivery times read from Italian words, relative to a ``now`` passed in (Europe/Rome)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.nlu.when import ROME, When, describe, read_when

WEDNESDAY_11 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 11:00 in Rome (CET)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 time in Rome."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ROME)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("per stasera", local(2, 19)),
        ("stasera alle 8", local(2, 20)),
        ("domani alle 10", local(3, 10)),
        ("domani mattina", local(3, 10)),
        ("giovedì alle 17", local(3, 17)),
        ("venerdi alle 18:30", local(4, 18, 30)),
        ("lunedì alle 9", local(7, 9)),
        ("dopodomani verso le 5", local(4, 17)),
        ("oggi alle 16.45", local(2, 16, 45)),
        ("tra mezz'ora", local(2, 11, 30)),
        ("fra 2 ore", local(2, 13)),
        ("a mezzogiorno", local(2, 12)),
        ("domattina alle 9", local(3, 9)),
        ("domattina", local(3, 10)),
    ],
)
def test_a_named_time_is_read_in_shop_time(text: str, expected: datetime) -> None:
    """Days, parts of the day, clock times and offsets all land on the Italian calendar."""
    assert read_when(text, WEDNESDAY_11) == When(asap=False, at=expected)


@pytest.mark.parametrize("text", ["adesso", "subito per favore", "appena possibile", "ASAP"])
def test_now_words_mean_as_soon_as_possible(text: str) -> None:
    """ "adesso", "subito", "appena possibile": no time, as soon as possible."""
    assert read_when(text, WEDNESDAY_11) == When(asap=True)


@pytest.mark.parametrize("text", ["via Torino 15, Milano", "pago in contanti", "ciao", ""])
def test_words_without_a_time_give_none(text: str) -> None:
    """An address, a payment or a greeting names no delivery time."""
    assert read_when(text, WEDNESDAY_11) is None


def test_the_day_follows_rome_not_utc() -> None:
    """At 23:30 UTC it is already the next day in Rome: "domani" is the day after that."""
    late = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # Thursday 00:30 in Rome
    assert read_when("domani alle 10", late) == When(asap=False, at=local(4, 10))


def test_descriptions_name_today_tomorrow_or_the_weekday() -> None:
    """The Italian wording told to customers and dealers."""
    assert describe(When(asap=True), WEDNESDAY_11) == "appena possibile"
    assert describe(When(asap=False, at=local(2, 19)), WEDNESDAY_11) == "oggi alle 19:00"
    assert describe(When(asap=False, at=local(3, 10)), WEDNESDAY_11) == "domani alle 10:00"
    assert describe(When(asap=False, at=local(7, 9)), WEDNESDAY_11) == "lunedì 7/12 alle 9:00"
