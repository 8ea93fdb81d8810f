"""Phone normalisation, masking and conversation keys."""

from __future__ import annotations

import pytest

from core.phones import (
    bsuid_key,
    conversation_stream,
    customer_key,
    mask_phone,
    normalize_phone,
    phone_from_wa_id,
)


@pytest.mark.parametrize(
    "raw",
    [
        "393281234567",
        "+39 328 123 4567",
        "0039 328 123 4567",
        "328 1234567",
        "3281234567",
        "+39-328-123-4567",
        " (+39) 328.123.4567 ",
    ],
)
def test_italian_mobile_in_every_written_form_normalises_to_e164(raw: str) -> None:
    """Meta's wa_id, plus/00 prefixes and national forms all give the same E.164."""
    assert normalize_phone(raw) == "+393281234567"


def test_italian_landline_keeps_its_leading_zero() -> None:
    """Italian landlines keep the trunk zero after the country code."""
    assert normalize_phone("02 1234 5678") == "+390212345678"


def test_foreign_number_with_plus_is_not_read_as_italian() -> None:
    """An explicit country code wins over the default region."""
    assert normalize_phone("+1 650 555 1234") == "+16505551234"


def test_long_bare_digits_are_read_as_international() -> None:
    """A wa_id of another country (digits, no plus) keeps its country code."""
    assert normalize_phone("4915123456789") == "+4915123456789"


def test_default_region_can_be_changed() -> None:
    """A national number is read in the region the caller names."""
    assert normalize_phone("(650) 555-1234", default_region="US") == "+16505551234"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12", "+39 12", "<WA_ID>", "3" * 50, "+"])
def test_invalid_inputs_give_none(raw: str) -> None:
    """Garbage, too short and too long inputs are not phone numbers."""
    assert normalize_phone(raw) is None


def test_wa_id_outside_known_ranges_is_trusted() -> None:
    """Meta's wa_id stays a phone even when phonenumbers does not know the range."""
    assert phone_from_wa_id("972987654321") == "+972987654321"


def test_wa_id_that_is_valid_gives_e164() -> None:
    """A valid wa_id gives its E.164 form."""
    assert phone_from_wa_id("393281234567") == "+393281234567"


@pytest.mark.parametrize(
    "wa_id", ["<WHATSAPP_USER_PHONE_NUMBER>", "US.123456", "123", "0391234567"]
)
def test_wa_id_that_is_not_digits_gives_none(wa_id: str) -> None:
    """Placeholders, BSUIDs, short and zero-led ids are not phones."""
    assert phone_from_wa_id(wa_id) is None


def test_mask_keeps_country_code_and_last_three_digits() -> None:
    """Only the country code and the last three digits stay readable."""
    assert mask_phone("+39328123464") == "+39******464"


def test_mask_of_a_ten_digit_italian_mobile() -> None:
    """The number of stars follows the number of hidden digits."""
    assert mask_phone("+393281234567") == "+39*******567"


def test_mask_of_garbage_hides_everything() -> None:
    """A short or unparseable value reveals nothing."""
    assert mask_phone("12") == "+**"


def test_conversation_stream_of_a_phone() -> None:
    """A phone-keyed conversation stream."""
    assert conversation_stream("+393281234567") == "conversation-+393281234567"


def test_conversation_stream_of_a_bsuid_user() -> None:
    """A user without phone number is keyed by ``bsuid:<id>``."""
    assert conversation_stream(bsuid_key("IT.1349")) == "conversation-bsuid:IT.1349"


def test_customer_key_prefers_the_phone() -> None:
    """The phone wins over the BSUID; neither gives None."""
    assert customer_key("+393281234567", "IT.1") == "+393281234567"
    assert customer_key(None, "IT.1") == "bsuid:IT.1"
    assert customer_key(None, None) is None
