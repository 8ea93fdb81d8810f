"""Questions about the shop itself (hours, zones, fee, payment), recognised and answered offline.

Recognition reads folded Italian words, not sentences: a topic needs its own vocabulary
(``aperti``, ``orari``, ``zone``, ``spedizione``, ``pagare`` ...) and, where a word also
belongs to orders ("consegna", "contanti"), a question context (a question mark or an
interrogative). Answers quote the settings verbatim, so what the bot says and what the
checkout applies never disagree. A day named in an hours question gets a day-specific
answer ("La domenica siamo chiusi").
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

from core.business_facts import DAY_NAMES, ShopFacts, hhmm
from core.nlu.normalize import fold
from core.nlu.replies import format_price


class Topic(StrEnum):
    """What a business question is about."""

    HOURS = "hours"
    ZONES = "zones"
    FEE = "fee"
    PAYMENT = "payment"


_QUESTION = re.compile(
    r"\?|\b(quando|quanto|quanta|quali|quale|come|dove|che|si puo|posso|potete|fate"
    r"|accettate|siete|e possibile|arrivate|consegnate)\b"
)
_HOURS = re.compile(
    r"\b(orari\w*|aprite|aperti|aperto|apre|aprono|chiudete|chiusi|chiuso|chiude|chiudono"
    r"|apertura|chiusura|festiv\w*|lavorate|lavora)\b|\borari\w* di consegna\b"
)
_HOURS_ASK = re.compile(
    r"\b(a|fino a|da) che ora (aprite|apre|chiudete|chiude|siete|iniziate|finite|consegnate"
    r"|fate consegne|portate|lavorate)\b|\bfino a (quando|che ora|che ore)\b"
)
_DAY_DELIVERY = re.compile(
    r"\b(lunedi|martedi|mercoledi|giovedi|venerdi|sabato|domenica|festivi)\b.*\bconsegn\w*"
    r"|\bconsegn\w*\b.*\b(lunedi|martedi|mercoledi|giovedi|venerdi|sabato|domenica|festivi)\b"
)
_ZONES = re.compile(
    r"\b(zone|zona|quartier\w*|citta|comune|comuni|paese|raggio|dintorni|provincia|fuori)\b"
    r"|\b(consegnate|arrivate|portate|spedite) (anche )?(a|in|fino|fuori|dove)\b"
    r"|\bdove (consegnate|arrivate|portate|spedite)\b"
    r"|\b(servite|coprite|raggiungete)\b|\b(fate|fanno|effettuate) (le |anche )?consegn\w*"
)
_FEE = re.compile(
    r"\b(costo|costa|costano|prezzo|quanto|spese|tariffa|gratis|gratuit\w*)\b.*"
    r"\b(consegna|consegne|spedizione|spedizioni|trasporto|domicilio|rider"
    r"|portar\w*|consegnar\w*)\b"
    r"|\b(consegna|spedizione|trasporto|domicilio)\b.*\b(costo|costa|quanto|prezzo|gratis"
    r"|gratuit\w*|spese)\b|\bspese di (consegna|spedizione|trasporto)\b"
)
_PAYMENT = re.compile(
    r"\b(pagare|pagamento|pagamenti|pago|paga|pagate|pagabile|bancomat|satispay|paypal"
    r"|carta|carte|contanti|contante|cash|pos)\b"
)
_DAY = re.compile(
    r"\b(?:(lunedi)|(martedi)|(mercoledi)|(giovedi)|(venerdi)|(sabat[oi])|(domenic(?:a|he)))\b"
)
_BARE_DAY = re.compile(
    r"^(e |ma |anche |invece )*(il |la |di |de |nei |i )?(lunedi|martedi|mercoledi|giovedi"
    r"|venerdi|sabato|sabati|domenica|domeniche|festivi|giorni festivi)( invece| anche)? \?$"
)
"""A day alone as a question ("e di domenica?"): it follows up on the hours."""
_ARTICLES = ("Il", "Il", "Il", "Il", "Il", "Il", "La")


def topics(text: str) -> tuple[Topic, ...]:
    """The business topics ``text`` asks about, in a stable order (empty: not such a question)."""
    folded = " ".join(re.findall(r"[a-z0-9]+|\?", fold(text).replace("'", " ")))
    asking = _QUESTION.search(folded) is not None
    found: list[Topic] = []
    hours_words = _HOURS.search(folded) or _HOURS_ASK.search(folded)
    day_only = _BARE_DAY.match(folded) is not None
    if hours_words or day_only or (asking and _DAY_DELIVERY.search(folded)):
        found.append(Topic.HOURS)
    if _FEE.search(folded) and asking:
        found.append(Topic.FEE)
    if _ZONES.search(folded) and asking and Topic.FEE not in found:
        found.append(Topic.ZONES)
    if _PAYMENT.search(folded) and asking and Topic.FEE not in found:
        found.append(Topic.PAYMENT)
    return tuple(found)


def answer(
    facts: ShopFacts, asked: tuple[Topic, ...], text: str, cart_total: Decimal | None = None
) -> str:
    """The Italian answer to every topic asked, one sentence each.

    With a cart open (``cart_total``), the fee's answer gives the total with delivery too:
    "quanto viene in tutto con la consegna?" asks for that figure.
    """
    parts = []
    for topic in asked:
        if topic is Topic.HOURS:
            parts.append(_hours(facts, text))
        elif topic is Topic.ZONES:
            parts.append(f"Consegniamo in queste zone: {facts.delivery_zones}.")
        elif topic is Topic.FEE and cart_total is not None:
            with_fee = format_price(cart_total + facts.fee)
            parts.append(
                f"La consegna costa {facts.delivery_fee}: con il tuo carrello "
                f"({format_price(cart_total)}) il totale con consegna è {with_fee}."
            )
        elif topic is Topic.FEE:
            parts.append(
                f"La consegna costa {facts.delivery_fee}: la aggiungo al totale quando "
                "confermi l'ordine."
            )
        else:
            parts.append("Alla consegna puoi pagare in contanti o con carta.")
    return " ".join(parts)


def _hours(facts: ShopFacts, text: str) -> str:
    general = f"I nostri orari: {facts.opening_hours}."
    day = _day_named(text)
    if day is None or not facts.has_hours:
        return general
    intervals = facts.week[day]
    if not intervals:
        return f"{_ARTICLES[day]} {DAY_NAMES[day]} siamo chiusi. {general}"
    spans = " e ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in intervals)
    article = _ARTICLES[day].lower()
    return f"Sì, {article} {DAY_NAMES[day]} siamo aperti, {spans}. {general}"


def _day_named(text: str) -> int | None:
    found = _DAY.search(fold(text))
    if found is None:
        return None
    return next(i for i, g in enumerate(found.groups()) if g)
