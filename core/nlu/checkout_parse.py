"""Delivery details in a customer's words: address, time and payment on delivery; pure.

One message may hold any of them, in any order ("via Manzoni 12, Milano, domani alle 10,
pago con carta"). The address starts at an Italian street word (via, viale, corso,
piazza, largo, ...; abbreviations such as ``c.so`` and ``p.za`` too) and runs to the
first words that belong to the time or the payment; a following comma part without
digits that names a place is its town ("via Torino 15, Milano"), and so is a town named
just before or after the street ("a Monza, via Italia 3", "via Roma 1 a Rho"). When the checkout
waits for an address and the message holds no street word, a short "Name 12" phrase is
taken as the address. A shared WhatsApp location fills the address through
:func:`address_from_location`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.nlu.normalize import fold
from core.nlu.when import When, read_when

MAX_ADDRESS = 200
_STREET = re.compile(
    r"(?<![\w])(via|viale|v\.le|corso|c\.so|piazza|p\.za|p\.zza|piazzale|p\.le|largo|vicolo"
    r"|strada|str\.|borgo|contrada|alzaia|ripa|lungo\w+|passaggio|galleria|bastioni"
    r"|piazzetta|salita|viuzza|localita|loc\.)\s+(?=\S)",
    re.IGNORECASE,
)
_STOP = re.compile(
    r"(?<![\w])(adesso|subito|appena|stasera|stamattina|stamani|oggi|domani|dopodomani"
    r"|luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica|alle|entro"
    r"|verso|per le|per stasera|per domani|per oggi|tra|fra|pago|pagherò|pagherei|pagamento"
    r"|in contanti|contanti|con carta|con la carta|carta|bancomat|cash|pos|grazie|per favore"
    r"|consegna|consegnate|portate|portatelo|citofon\w*|il prima|quando|dopo pranzo"
    r"|nel pomeriggio|in serata|in mattinata|domattina|stamane|stanotte|mezzogiorno|a pranzo"
    r"|a cena|per pranzo|per cena|questa sera|questa mattina|asap)(?![\w])|\(",
    re.IGNORECASE,
)
_TOWN_FIRST = re.compile(
    r"(?<![\w])(?:a|ad)\s+([A-Za-zÀ-ÿ']{3,}(?:\s+[A-Za-zÀ-ÿ']{2,}){0,3}?)\s*[,:]?\s*(?:in\s+|,\s*)?$",
    re.IGNORECASE,
)
_DANGLING = re.compile(r"(?:\s+(?:a|ad|per|e|ed|in|di))+$", re.IGNORECASE)
"""A preposition left at the end when the time follows ("corso Como 5 a mezzogiorno")."""
_TOWN_AFTER = re.compile(r"(\d[\w/]*)\s+(?:a|ad)\s+([A-Za-zÀ-ÿ'][A-Za-zÀ-ÿ' ]+)$", re.IGNORECASE)
_NOT_PLACE = frozenset(
    {
        "casa", "domicilio", "lavoro", "ufficio", "nome", "me", "noi", "te", "voi", "mia",
        "mio", "nostra", "nostro", "questo", "questa", "quell", "quello", "quella", "partire",
    }
)  # fmt: skip
_LOOSE = re.compile(r"^[A-Za-zÀ-ÿ' .]{3,60}\s\d{1,4}[A-Za-z]?(\s*[,/]\s*[A-Za-zÀ-ÿ' ]{2,40})?$")
_CASH = re.compile(r"\b(contanti|contante|cash|in contanti)\b")
_CARD = re.compile(r"\b(carta|bancomat|pos|carta di credito|carta di debito|visa|mastercard)\b")
_OTHER_PAY = re.compile(r"\b(satispay|paypal|bonifico|assegno|buoni pasto|ticket)\b")


@dataclass(frozen=True, slots=True, kw_only=True)
class Details:
    """What one message says about the delivery (None: not said)."""

    address: str | None = None
    when: When | None = None
    payment: str | None = None  # contanti | carta
    unsupported_payment: str | None = None  # satispay, paypal, ... (not on delivery)
    too_long: bool = False  # an address beyond MAX_ADDRESS characters

    @property
    def empty(self) -> bool:
        """True when the message said nothing about the delivery."""
        return (
            self.address is None
            and self.when is None
            and self.payment is None
            and self.unsupported_payment is None
            and not self.too_long
        )


def read_details(text: str, now: datetime, *, want_address: bool = False) -> Details:
    """Address, time and payment in ``text``; ``want_address`` accepts a bare "Name 12"."""
    address, too_long = _address(text, loose=want_address)
    folded = fold(text)
    rest = folded
    for part in (address or "").split(","):  # the town may have been moved after the street
        rest = rest.replace(fold(part.strip()), " ") if part.strip() else rest
    other = _OTHER_PAY.search(folded)
    return Details(
        address=address,
        when=read_when(rest, now),
        payment=payment_of(folded),
        unsupported_payment=other.group() if other and payment_of(folded) is None else None,
        too_long=too_long,
    )


def payment_of(folded: str) -> str | None:
    """``contanti`` or ``carta`` when named (cash first when both are)."""
    if _CASH.search(folded):
        return "contanti"
    if _CARD.search(folded):
        return "carta"
    return None


def _address(text: str, *, loose: bool) -> tuple[str | None, bool]:
    street = _STREET.search(text)
    if street is None:
        return (_loose(text), False) if loose else (None, False)
    tail = text[street.end() :]
    stop = _STOP.search(tail)
    body = tail[: stop.start()] if stop else tail
    found = _DANGLING.sub("", _tidy(text[street.start() : street.end()] + body))
    after = _TOWN_AFTER.search(found) if "," not in found else None
    if after is not None and _place(after.group(2)):
        found = f"{found[: after.start()]}{after.group(1)}, {after.group(2)}"
    town = _town_before(text[: street.start()])
    if town and "," not in found and len(found) > len(street.group()):
        found = f"{found}, {town}"
    if len(found) > MAX_ADDRESS:
        return None, True
    return (found if len(found) > len(street.group()) else None), False


def _town_before(prefix: str) -> str | None:
    """The town named just before the street ("a Monza, via Italia 3"; "abito a Rho in via ...")."""
    found = _TOWN_FIRST.search(prefix)
    if found is None:
        return None
    town = found.group(1).strip()
    return town if _place(town) else None


def _place(words: str) -> bool:
    """False for words after "a" that are no town ("a casa", "a nome di ...")."""
    return fold(words).split()[0] not in _NOT_PLACE


def _loose(text: str) -> str | None:
    first = text.strip().split("\n")[0]
    stop = _STOP.search(first)
    candidate = _tidy(first[: stop.start()] if stop else first)
    return candidate if _LOOSE.match(candidate) else None


def _tidy(text: str) -> str:
    parts = [p.strip(" .;:-()") for p in re.split(r",", " ".join(text.split()))]
    kept = [p for p in parts if p]
    return ", ".join(kept)


def address_from_location(
    latitude: Decimal | None, longitude: Decimal | None, name: str | None, address: str | None
) -> str | None:
    """The delivery address a shared WhatsApp location gives, or None without coordinates.

    Meta sends the place's ``address`` and ``name`` only for a chosen place; a pin has
    coordinates alone. The text kept is what a rider can follow: the address, the name
    of the place when it adds something, and the coordinates.
    """
    if latitude is None or longitude is None:
        return None
    where = f"posizione {latitude}, {longitude}"
    label = ", ".join(p.strip() for p in (address, name) if p and p.strip())
    found = f"{label} ({where})" if label else where
    return found if len(found) <= MAX_ADDRESS else where
