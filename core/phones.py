"""Phone numbers and conversation keys: E.164 normalisation, masking for logs, stream names.

A customer's conversation is keyed by their E.164 phone (``+393281234567``). Users who
reach us with a business-scoped user id (BSUID) and no phone number are keyed by
``bsuid:<id>`` instead. Pure: phonenumbers only, no I/O.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

_SEPARATORS = frozenset(" -.()/")
_ALLOWED = frozenset("0123456789+") | _SEPARATORS
_MAX_INPUT = 40  # longer strings are not phone numbers; spare the parser
_MIN_WA_DIGITS = 8  # shortest country code + subscriber number Meta sends as a wa_id
_MAX_E164_DIGITS = 15  # ITU-T E.164
_NATIONAL_MAX_DIGITS = 10  # Italian mobiles have 9-10 digits; longer bare digits are wa_ids


@lru_cache(maxsize=65536)  # a pure function called for every turn (dealer check, streams)
def normalize_phone(raw: str, default_region: str = "IT") -> str | None:
    """E.164 form of ``raw`` (``+39...``), or None when it is not a valid number.

    Accepts ``+39 328 123 4567``, ``0039 328 123 4567``, ``328 1234567`` (read in
    ``default_region``) and Meta's ``wa_id`` form ``393281234567`` (digits without plus,
    read as international). Bare digit strings of up to ten digits are tried as a national
    number first: ``3281234567`` is an Italian mobile, not ``+32`` Belgium.
    """
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT or not set(text) <= _ALLOWED:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    if text.startswith("+"):
        candidates: tuple[tuple[str, str | None], ...] = (("+" + digits, None),)
    elif text.isdigit() and len(digits) > _NATIONAL_MAX_DIGITS:
        candidates = (("+" + digits, None), (digits, default_region))
    else:
        candidates = ((digits, default_region), ("+" + digits, None))
    for number, region in candidates:
        parsed = _valid_e164(number, region)
        if parsed is not None:
            return parsed
    return None


@lru_cache(maxsize=65536)
def phone_from_wa_id(wa_id: str) -> str | None:
    """E.164 for a ``wa_id`` as Meta sends it (international digits, no plus), else None.

    Meta's word is authoritative: when the phonenumbers metadata does not know a range
    (new allocations, test numbers) the digits are kept as they are, so a real customer is
    never dropped. Placeholders and other non-numeric ids give None.
    """
    digits = wa_id.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    if not _MIN_WA_DIGITS <= len(digits) <= _MAX_E164_DIGITS or digits.startswith("0"):
        return None
    if digits.startswith(_KEPT_AS_SENT):
        return "+" + digits
    return _valid_e164("+" + digits, None) or "+" + digits


# Country codes whose numbers parse back to the very digits sent: their regions (IT and
# VA for +39) strip no national prefix, so E.164 is "+" + digits whether phonenumbers
# finds the number valid or not (checked against phonenumbers for every 390-399 prefix
# and lengths 8-15). Most of our customers are Italian: this skips a ~20 us parse.
_KEPT_AS_SENT = ("39",)


def mask_phone(e164: str) -> str:
    """``+39******464``: the country code and the last three digits, for logs."""
    digits = "".join(ch for ch in e164 if ch in "0123456789")
    country = ""
    try:
        country = str(phonenumbers.parse("+" + digits, None).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    rest = digits[len(country) :]
    if len(rest) <= 3:
        return "+" + country + "*" * len(rest)
    return "+" + country + "*" * (len(rest) - 3) + rest[-3:]


def bsuid_key(bsuid: str) -> str:
    """The conversation key of a user known only by their business-scoped user id."""
    return "bsuid:" + bsuid


def customer_key(phone: str | None, bsuid: str | None) -> str | None:
    """The conversation key: the E.164 phone when known, else ``bsuid:<id>``, else None."""
    if phone:
        return phone
    if bsuid:
        return bsuid_key(bsuid)
    return None


def conversation_stream(key: str) -> str:
    """The event stream of one customer's conversation (key from :func:`customer_key`)."""
    return "conversation-" + key


def _valid_e164(number: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


PERSON_PREFIX = "prs_"  # conversation keys that are pseudonymous person ids


def is_person_id(key: str) -> bool:
    """True for a pseudonymous person id (``prs_...``), the key streams are named by."""
    return key.startswith(PERSON_PREFIX)
