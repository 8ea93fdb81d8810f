"""The shop's business facts, pure: opening hours, delivery zones, delivery fee, payment.

They come from settings (``DLOOP_OPENING_HOURS``, ``DLOOP_DELIVERY_ZONES``,
``DLOOP_DELIVERY_FEE``) as Italian text and are read here once: hours such as
``lun-sab 9:00-20:00`` or ``lun-ven 9-13 15-19; sab 9-13`` become weekly intervals that
the checkout uses to propose the next opening slot; ``2,90 €`` becomes a Decimal added to
the total. The questions customers ask about them ("siete aperti la domenica?", "quanto
costa la consegna?") are recognised and answered offline here, without the assistant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from core.nlu.normalize import fold

DAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
DAY_NAMES = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
PAYMENT_METHODS = ("contanti", "carta")
_RANGE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*-\s*(\d{1,2})(?:[:.](\d{2}))?")
_DAYSPEC = re.compile(
    r"\b(lun|mar|mer|gio|ven|sab|dom)\w*(?:\s*-\s*(lun|mar|mer|gio|ven|sab|dom)\w*)?"
)

Interval = tuple[int, int]  # minutes from midnight, start inclusive, end exclusive


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopFacts:
    """What the bot may tell customers, and what the checkout applies."""

    opening_hours: str = "lun-sab 9:00-20:00"
    delivery_zones: str = "Milano centro"
    delivery_fee: str = "2,90 €"
    week: tuple[tuple[Interval, ...], ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, opening_hours: str, delivery_zones: str, delivery_fee: str) -> ShopFacts:
        """The facts with their opening hours read into a week of intervals."""
        return cls(
            opening_hours=opening_hours,
            delivery_zones=delivery_zones,
            delivery_fee=delivery_fee,
            week=parse_hours(opening_hours),
        )

    @property
    def fee(self) -> Decimal:
        """The delivery fee as money (``0.00`` when the setting holds no amount)."""
        return parse_fee(self.delivery_fee) or Decimal("0.00")

    @property
    def zones(self) -> tuple[str, ...]:
        """The zones, one per comma- or semicolon-separated part."""
        return tuple(z.strip() for z in re.split(r"[,;]", self.delivery_zones) if z.strip())

    @property
    def has_hours(self) -> bool:
        """True when the opening hours could be read (else every time counts as open)."""
        return any(self.week)


def parse_fee(text: str) -> Decimal | None:
    """``2,90 €`` -> ``2.90``; None when there is no amount."""
    found = re.search(r"\d+(?:[.,]\d{1,2})?", text)
    if found is None:
        return None
    try:
        return Decimal(found.group().replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def parse_hours(text: str) -> tuple[tuple[Interval, ...], ...]:
    """Seven tuples (Monday first) of opening intervals; all empty when unreadable."""
    week: list[list[Interval]] = [[] for _ in DAYS]
    for part in re.split(r"[;,\n]", fold(text)):
        spec = _DAYSPEC.search(part)
        ranges = [_interval(m) for m in _RANGE.finditer(part[spec.end() :] if spec else part)]
        if spec is None or not ranges:
            continue
        first = DAYS.index(spec.group(1))
        last = DAYS.index(spec.group(2)) if spec.group(2) else first
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        for day in days:
            week[day] += [r for r in ranges if r[0] < r[1]]
    return tuple(tuple(sorted(day)) for day in week)


def _interval(m: re.Match[str]) -> Interval:
    h1, m1, h2, m2 = m.groups()
    return int(h1) * 60 + int(m1 or 0), int(h2) * 60 + int(m2 or 0)


def is_open(facts: ShopFacts, local: datetime) -> bool:
    """True when ``local`` (shop time) falls inside the opening hours."""
    if not facts.has_hours:
        return True
    minute = local.hour * 60 + local.minute
    return any(a <= minute < b for a, b in facts.week[local.weekday()])


def next_opening(facts: ShopFacts, local: datetime) -> datetime:
    """The first moment at or after ``local`` when the shop is open (``local`` itself if open)."""
    if is_open(facts, local):
        return local
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        for start, _end in facts.week[day.weekday()]:
            at = _at(day, start, local)
            if at > local:
                return at
    return local


def _at(day: date, minute: int, like: datetime) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=like.tzinfo)


def hhmm(minute: int) -> str:
    """``540`` -> ``9:00``."""
    return f"{minute // 60}:{minute % 60:02d}"


_NOT_TOWN = re.compile(
    r"^(scala|piano|interno|int|citofono|presso|c/o|palazzina|cortile|edificio|lotto|fermo"
    r"|portone|campanello|dopo|vicino)\b"
)


def in_zone(facts: ShopFacts, address: str) -> bool:
    """False only when the address names a town that none of the zones names.

    Zones are free text ("Milano centro", "Milano, Sesto San Giovanni"): a town written
    after a comma ("via Roma 3, Monza") must appear among the zones' words. An address
    without a town is taken as the shop's own town.
    """
    zone_words = {w for z in facts.zones for w in re.findall(r"[a-z]+", fold(z)) if len(w) > 2}
    if not zone_words:
        return True
    for part in [fold(p).strip() for p in address.split(",")[1:]]:
        if not part or any(c.isdigit() for c in part) or _NOT_TOWN.match(part):
            continue
        words = [w for w in re.findall(r"[a-z]+", part) if len(w) > 2]
        if words and not zone_words.intersection(words):
            return False
    return True
