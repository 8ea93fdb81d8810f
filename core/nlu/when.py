"""When the customer wants the delivery, read from Italian words; pure, ``now`` passed in.

Reads "adesso" / "subito" / "appena possibile" (as soon as possible), "stasera",
"stamattina", "oggi pomeriggio", "domattina", "domani (mattina|sera) alle 10", "dopodomani", weekday
names ("giovedì alle 17"), "tra un'ora" / "fra 2 ore" / "tra mezz'ora", and times as
"alle 17", "alle 17:30", "per le 18", "verso le 8 di sera", "ore 10". Times are shop
time (Europe/Rome): ``now`` is converted first, so "stasera" and "domani" follow the
Italian calendar whatever the server's zone. A bare hour from 1 to 7 means the
afternoon ("alle 5" -> 17:00), as Italians say it, unless "di mattina" is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.nlu.normalize import fold

ROME = ZoneInfo("Europe/Rome")
WEEKDAYS = ("lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato", "domenica")
_ASAP = re.compile(
    r"\b(adesso|subito|ora stesso|il prima possibile|prima possibile|appena (possibile|puoi"
    r"|potete|riuscite)|quanto prima|al piu presto|immediatamente|asap|quando (volete|potete"
    r"|vuoi|puoi|riuscite)|non ho fretta|a qualsiasi ora|in qualsiasi momento)\b"
)
_CLOCK = re.compile(
    r"\b(?:alle|per le|verso le|entro le|dopo le|ore|all|per l|verso l|entro l|dalle)\s*"
    r"(\d{1,2})(?:[:.](\d{2}))?(?:\s*(e mezza|e mezzo|e un quarto))?"
    r"(?:\s*(di mattina|del mattino|di sera|di pomeriggio|del pomeriggio|di notte))?\b"
)
_MIDDAY = re.compile(r"\b(a |per |verso )?mezzogiorno\b")
_IN = re.compile(r"\b(?:tra|fra) (un|una|mezz|\d{1,2}) ?(ora|ore|oretta|minuti|min)\b")
_PARTS = (
    ("stasera", 19, 0), ("questa sera", 19, 0), ("stamattina", 10, 0), ("stamani", 10, 0),
    ("questa mattina", 10, 0), ("oggi pomeriggio", 15, 0), ("nel pomeriggio", 15, 0),
    ("in serata", 19, 0), ("in mattinata", 10, 0), ("a pranzo", 12, 30), ("a cena", 19, 30),
    ("dopo pranzo", 14, 30), ("verso sera", 18, 0), ("primo pomeriggio", 14, 30),
    ("tardo pomeriggio", 17, 30), ("per cena", 19, 30), ("per pranzo", 12, 30),
)  # fmt: skip
_DAY_PARTS = (("mattina", 10), ("pomeriggio", 15), ("sera", 19))
_CONTRACTED = (
    (re.compile(r"\bdomattina\b"), "domani mattina"),
    (re.compile(r"\bstamane\b"), "stamattina"),
)
"""One-word forms of a day and its part, spelt out (``domattina`` is ``domani mattina``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class When:
    """A delivery time: as soon as possible, or a moment in shop time."""

    asap: bool
    at: datetime | None = None  # aware, Europe/Rome; None when ``asap``


def read_when(text: str, now: datetime) -> When | None:
    """The delivery time ``text`` asks for, or None when it names none."""
    folded = " ".join(re.findall(r"[a-z0-9:.]+", fold(text).replace("'", " ")))
    for contracted, spelt in _CONTRACTED:
        folded = contracted.sub(spelt, folded)
    local = now.astimezone(ROME)
    delta = _relative(folded)
    if delta is not None:
        return When(asap=False, at=(local + delta).replace(second=0, microsecond=0))
    day, default = _day(folded, local)
    clock = _clock(folded, evening=default is not None and default >= 17 * 60)
    if day is None and clock is None:
        return When(asap=True) if _ASAP.search(folded) else None
    if day is None:
        day = local.date()
    minute = clock if clock is not None else default if default is not None else None
    if minute is None:
        return When(asap=False, at=_at(day, 10 * 60))
    at = _at(day, minute)
    if at <= local and clock is not None and day == local.date() and minute < 12 * 60:
        at = _at(day, minute + 12 * 60) if minute + 12 * 60 < 24 * 60 else at
    return When(asap=False, at=at)


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=ROME)


def _relative(folded: str) -> timedelta | None:
    found = _IN.search(folded)
    if found is None:
        return None
    amount, unit = found.groups()
    if amount == "mezz":
        return timedelta(minutes=30)
    count = 1 if amount in ("un", "una") else int(amount)
    return timedelta(minutes=count) if unit.startswith("min") else timedelta(hours=count)


def _day(folded: str, local: datetime) -> tuple[date | None, int | None]:
    """The day named and the default minute its words imply (``stasera`` -> 19:00)."""
    today = local.date()
    for words, hour, minute in _PARTS:
        if re.search(rf"\b{words}\b", folded):
            return today, hour * 60 + minute
    if re.search(r"\bdopodomani\b", folded):
        return today + timedelta(days=2), _part(folded)
    if re.search(r"\bdomani\b", folded):
        return today + timedelta(days=1), _part(folded)
    for i, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", folded):
            ahead = (i - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead), _part(folded)
    if re.search(r"\boggi\b", folded):
        return today, _part(folded)
    return None, None


def _part(folded: str) -> int | None:
    for word, hour in _DAY_PARTS:
        if re.search(rf"\b{word}\b", folded):
            return hour * 60
    return None


def _clock(folded: str, *, evening: bool) -> int | None:
    if _MIDDAY.search(folded):
        return 12 * 60
    found = _CLOCK.search(folded)
    if found is None:
        return None
    hour, minute, fraction, part = found.groups()
    h, m = int(hour), int(minute or 0)
    if fraction:
        m = 15 if "quarto" in fraction else 30
    if h > 23 or m > 59:
        return None
    afternoon = part in ("di sera", "di pomeriggio", "del pomeriggio") or evening
    if (afternoon and h < 12) or (part is None and 1 <= h <= 7):
        h += 12
    return h * 60 + m


def describe(when: When, now: datetime) -> str:
    """``appena possibile``, ``oggi alle 19:00``, ``domani alle 10:00``, ``giovedì 10/12 ...``."""
    if when.asap or when.at is None:
        return "appena possibile"
    local, today = when.at.astimezone(ROME), now.astimezone(ROME).date()
    clock = f"{local.hour}:{local.minute:02d}"
    days = (local.date() - today).days
    if days == 0:
        return f"oggi alle {clock}"
    if days == 1:
        return f"domani alle {clock}"
    names = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
    return f"{names[local.weekday()]} {local.day}/{local.month} alle {clock}"
