"""The codec round-trips every value exactly (hypothesis)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.codec import EncodeError, decode_payload, encode_payload
from tests.support.sample_events import Noted

zones = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-12 * 60, 14 * 60))
aware = st.datetimes(timezones=zones)
money = st.decimals(
    allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
)
notes = st.builds(
    Noted,
    text=st.text(),
    amount=money,
    at=st.none() | aware,
    tags=st.lists(st.text(max_size=5), max_size=4).map(tuple),
)


@given(notes)
def test_round_trip_through_json_is_exact(note: Noted) -> None:
    """encode -> JSON text -> decode gives an equal event with the same Decimal digits."""
    data = json.loads(json.dumps(encode_payload(note)))
    back = decode_payload(Noted.TYPE, Noted.VERSION, data)
    assert back == note
    assert str(back.amount) == str(note.amount)
    if note.at is not None:
        assert back.at.utcoffset() == note.at.utcoffset()


def test_decimal_keeps_trailing_zeros() -> None:
    """18.90 stays 18.90, not 18.9."""
    data = encode_payload(Noted(text="x", amount=Decimal("18.90")))
    assert data["amount"] == "18.90"


def test_naive_datetime_is_refused_at_encode_time() -> None:
    """Events carry timezone-aware times only."""
    with pytest.raises(EncodeError, match="naive"):
        encode_payload(Noted(text="x", at=datetime(2026, 1, 1)))
