"""Intent classification by Italian phrase rules and vocabulary, with a confidence.

Each rule adds weight to one intent when its pattern occurs in the folded message.
Where stems collide the rules read phrases: ``il mio ordine`` (a placed order: support)
versus ``ordino``/``vorrei ordinare``/``un nuovo ordine`` (ordering). Two signals come
from the catalogue: a product is mentioned, and items carry explicit quantities. Ties
go to the costlier mistake to miss: support, then order, then question, then chat.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from core.nlu.lexicon import INTENT_WORDS, STOPWORDS
from core.understanding import Intent

_NOT_ORDER = (
    r"(?! (sapere|chiedere|informazion\w*|parlare|capire|segnalare|annullare|cancellare"
    r"|disdire|restituire|rendere|cambiare|modificare|lamentar\w*|(fare )?(un )?reclamo"
    r"|(un |il )?rimborso|essere rimborsat\w*|(i )?soldi))"
)
_SUPPORT_STEMS = (
    "rimbors", "reclam", "operator", "assistenz", "sbagliat", "sbagli", "rott", "danneggiat",
    "rovinat", "scadut", "ammuffit", "avariat", "mancant", "mancav", "ritard", "lament",
    "problem", "guast", "annull", "disdir", "disdett", "restitu", "truff", "addebit",
    "scortes", "maleducat", "errat", "errore", "difett", "insoddisfatt", "inaccettabil",
    "cancell", "smarrit", "rubat", "sporc", "sciolt", "sgarbat", "arrogant", "rifiutat",
    "fallit", "bloccat", "schif", "appassit", "marcio", "marci", "ammaccat", "bagnat",
)  # fmt: skip
_SUPPORT_EXACT = frozenset(
    {
        "reso",
        "aiuto",
        "aiutatemi",
        "aiutami",
        "aiutarmi",
        "aiutarci",
        "aiutateci",
        "help",
        "manca",
        "mancano",
        "perso",
        "persa",
    }
)
_RULES: tuple[tuple[Intent, float, re.Pattern[str]], ...] = tuple(
    (intent, weight, re.compile(pattern))
    for intent, weight, pattern in (
        (Intent.ORDER_REQUEST, 2.0, r"\b(vorrei|vorremmo|volevo|volevamo|voglio|vogliamo"
         r"|desidero|desidererei|gradirei)\b" + _NOT_ORDER),
        (Intent.ORDER_REQUEST, 2.0, r"\b(ordino|ordiniamo|ordinare|ordinerei|prendo|prendiamo"
         r"|prenderei|compro|compriamo|comprare|comprerei|acquisto|acquistare|acquisterei"
         r"|prenoto|prenotare|prenotiamo|aggiungi|aggiungete|aggiungimi|carrello)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(mi|ci) (porti|portate|portereste|porteresti|mandi"
         r"|mandate|mandereste|spedite|spedisci|inviate|invii|dai|date|serve|servono"
         r"|servirebbe|servirebbero|occorre|occorrono|prepari|preparate)\b|\bmi (metti|mettete)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(portatemi|portami|portaci|portateci|mandatemi|mandami"
         r"|mandateci|inviatemi|speditemi|datemi|dammi|mettetemi|mettimi|preparatemi)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(posso|potrei|possiamo|potremmo) (avere|ordinare"
         r"|prendere|comprare|ricevere)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(portar|mandar|spedir|inviar|procurar|consegnar|dar)"
         r"(mi|ci|melo|mela|meli|mele|celo|cela|celi|cele)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(mi |ci )?(fai|fate|faresti|fareste|potete|potreste"
         r"|puoi|potresti) (arrivare|avere|portare|mandare|spedire|consegnare)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(un|nuovo|altro) (nuovo )?ordine\b(?! (n|nr|numero)\b)"),
        (Intent.ORDER_REQUEST, 3.0, r"\b(confermo|confermiamo|confermate|procedi|procediamo)\b"),
        (Intent.ORDER_REQUEST, 1.5, r"\b(ho|abbiamo) bisogno d\w*\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(mio|mia|nostro|vostro|stesso|questo|quest|quello"
         r"|quell|ultimo|precedente|ultim\w*) ordin[ei]\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(mio|mia|miei|mie|nostro|nostra|nostri) (pacco|pacchi"
         r"|spesa|consegna|acquisto|acquisti|pagamento|rimborso|account|ordinazione)\b"),
        (Intent.SUPPORT_REQUEST, 1.5, r"\b(ho|abbiamo|avevo|avevamo) (gia )?(ordinato|ricevuto"
         r"|pagato|comprato)\b|\bmi (e|sono) arrivat\w*"
         r"|\b(mi|ci) (avete|hanno|ha) (portato|mandato|dato|consegnato|spedito)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bnon (mi |ci )?(avete|hanno|ha|hai) (ancora )?"
         r"(portato|mandato|consegnato|dato|spedito|messo|risposto|rimborsato)\b"
         r"|\b(rider|fattorino|corriere|driver|ragazzo delle consegne) (non|e|ha|mi)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\btrattat\w* male\b|\bcomportat\w* male\b"
         r"|\bnon (e |sono )?(andat|riuscit)\w*\b"),
        (Intent.SUPPORT_REQUEST, 1.5, r"\b(il|l|lo|dell|all|nell) ordine\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bordine (n|nr|numero|num)\b|\bordine \d"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(non|mai) (mi |ci )?(e |sono |ha |hanno |avete )?"
         r"(ancora |mai )?(arriv|giunt|consegnat|ricevut|pervenut|passat)\w*"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(sto aspettando|aspetto da|aspettiamo da|attendo da"
         r"|in attesa da|soldi indietro|ridatemi|restituitemi|senza avvisare)\b"
         r"|\b(che|ancora) (aspett|attend)\w*\b"
         r"|\bnon e (accettabile|normale|possibile|giusto|corretto|serio)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bnon (ho|abbiamo) (ancora |mai )?ricevut\w*"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(quando|quanto manca|che fine ha fatto) (arriva\w*"
         r"|il mio|la mia)\b|\bche fine ha fatto\b|\bquanto (ci )?manca\b"),
        (Intent.SUPPORT_REQUEST, 2.0, r"\bdov(e)? (e|sono|sta|stanno|si trova|e finit\w*) "
         r"(il|la|l|lo|i|le|mio|mia|miei|mie)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bnon (riesco|funziona\w*|va|mi fa|posso pagare)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(pagato|addebitat\w*|scalat\w*|pagat\w*) (\w+ )?"
         r"(due|2|piu|tre) volte\b|\bdoppio (addebito|pagamento)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(parlare|parlo|contattare|sentire|chiamare|passami"
         r"|passatemi) (con )?(un|una|il|l|la|lo|qualcuno|persona|umano|vero|responsabile"
         r"|titolare|assistenza)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(persona|essere umano|umano) (vera|reale)?\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(avete|avreste|vendete|tenete|trattate|vendono"
         r"|fornite|proponete)\b(?! (gia )?(portato|mandato|consegnato|dato|spedito|ricevuto"
         r"|sbagliato|dimenticato|messo|preso|addebitato|scritto|risposto)\b)"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\bc e\b|\bci sono\b|\bce l\b|\bce ne\b|\bce n\b"
         r"|\bci sarebbe\b|\bsi trova\w*\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\bquanto (costa|costano|viene|vengono|fa|fanno"
         r"|costerebbe|costerebbero|verrebbe)\b|\b(prezzo|prezzi|listino)\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(consigli\w*|suggeri\w*|raccomand\w*)\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(disponibil\w*|in magazzino|esaurit\w*)\b"),
        (Intent.PRODUCT_INQUIRY, 1.5, r"\b(vorrei|volevo|voglio) (sapere|chiedere"
         r"|informazion\w*)\b|\bdifferenza\b|\bcontiene\b|\bingredienti\b"),
        (Intent.GENERAL_CHAT, 1.0, r"\b(ciao|salve|buongiorno|buonasera|buonanotte|buondi"
         r"|hey|ehi|hello|hi|hola|arrivederci|a presto|buona (giornata|serata))\b"),
        (Intent.GENERAL_CHAT, 1.0, r"\b(grazie|ok|okay|perfetto|ottimo|benissimo|va bene"
         r"|d accordo|gentilissim\w*|gentili|thanks|thank|top|bravi|fantastico)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\bcome (state|stai|sta|va|andiamo)\b"
         r"|\btutto (bene|ok|okay|perfetto|a posto)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(natale|pasqua|auguri|buone feste|buon anno"
         r"|capodanno|ferragosto|compleanno)\b"),
        (Intent.GENERAL_CHAT, 2.0, r"\bdloop\b|\bchi siete\b|\bcome funziona\b|\bcos e\b"
         r"|\bchi sei\b|\bsei (un|una) (bot|robot|persona|umano|programma)\b"),
        (Intent.GENERAL_CHAT, 2.0, r"\bcome funziona (il servizio|dloop|l app|il sito"
         r"|la consegna|tutto)?\s*\?*$"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(english|speak|do you|you)\b"),
    )
)  # fmt: skip
_SERVICE = re.compile(
    r"\b(orari|orario|a che ora|aperti|aprite|apre|chiudete|chiude|chiusi|festivi|domenica"
    r"|sabato|zone|zona|consegnate|consegnare|consegna|consegne|spedite|spedizione"
    r"|spedizioni|domicilio|spese|commissione|minimo|pagamento|contanti|bancomat|satispay"
    r"|paypal|citta|quartiere|comune|paese|raggio|quanto tempo|quanto ci (mettete|vuole))\b"
)
_QUESTION_OPENERS = frozenset(
    ("avete", "c", "ce", "quanto", "quanta", "quanti", "quante", "quale", "quali", "che",
     "cosa", "come", "vendete", "esiste", "avreste", "tenete", "ci", "il", "la", "lo", "i",
     "le", "l")
)  # fmt: skip
_KEYWORDS = tuple(
    sorted(
        {"vorrei", "voglio", "volevo", "ordinare", "ordino", "prendo", "mandatemi",
         "portatemi", "vendete", "avete", "consigliate", "disponibile", "rimborso", "reclamo",
         "operatore", "assistenza", "problema", "sbagliato", "arrivato", "annullare",
         "ritardo", "grazie", "buongiorno", "buonasera", "perfetto", "consegnate", "aggiungi",
         "carrello", "prenotare", "comprare", "acquistare", "danneggiato", "vorremmo"}
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """What the catalogue says about a message: mentions and explicit quantities."""

    mentions_product: bool = False
    explicit_items: int = 0  # items with a number (resolved or not)
    items: int = 0  # items read at all


@lru_cache(maxsize=16384)
def correct(word: str) -> str:
    """``word`` or the intent keyword it misspells (``vorei`` -> ``vorrei``)."""
    if len(word) < 5 or word in STOPWORDS or word in INTENT_WORDS or not word.isalpha():
        return word
    found = process.extractOne(word, _KEYWORDS, scorer=fuzz.ratio, score_cutoff=85.0)
    return found[0] if found else word


def scores(
    tokens: tuple[str, ...], signals: Signals, known: Callable[[str], bool]
) -> dict[Intent, float]:
    """Weight of evidence for each intent; ``known`` tells catalogue words (not fixed)."""
    words = [t if known(t) else correct(t) for t in tokens]
    text = " ".join(words)
    out = dict.fromkeys(Intent, 0.0)
    for intent, weight, pattern in _RULES:
        if pattern.search(text):
            out[intent] += weight
    support = {w for w in words if w in _SUPPORT_EXACT or w.startswith(_SUPPORT_STEMS)}
    out[Intent.SUPPORT_REQUEST] += 3.0 * min(len(support), 2)
    _add_catalogue_signals(out, words, text, signals)
    return out


def _add_catalogue_signals(
    out: dict[Intent, float], words: list[str], text: str, signals: Signals
) -> None:
    question = "?" in words or (bool(words) and words[0] in _QUESTION_OPENERS)
    service = _SERVICE.search(text) is not None
    if service and not signals.mentions_product:
        out[Intent.GENERAL_CHAT] += 2.0 + out[Intent.PRODUCT_INQUIRY]
        out[Intent.PRODUCT_INQUIRY] = 0.0
    if signals.mentions_product:
        if question and "?" in words:
            out[Intent.PRODUCT_INQUIRY] += 2.0
        elif not question:
            out[Intent.ORDER_REQUEST] += 1.0
    if signals.explicit_items:
        out[Intent.ORDER_REQUEST] += 1.5


def classify(
    tokens: tuple[str, ...], signals: Signals, known: Callable[[str], bool]
) -> tuple[Intent, float]:
    """The intent of ``tokens`` and a confidence in [0, 1]."""
    weights = scores(tokens, signals, known)
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], _PRIORITY[kv[0]]))
    (top, best), (_, second) = ranked[0], ranked[1]
    if best <= 0.0:
        return Intent.GENERAL_CHAT, 0.5
    confidence = 0.5 + 0.5 * (best - second) / (best + 1.0)
    return top, round(min(confidence, 0.99), 3)


_PRIORITY = {
    Intent.SUPPORT_REQUEST: 0,
    Intent.ORDER_REQUEST: 1,
    Intent.PRODUCT_INQUIRY: 2,
    Intent.GENERAL_CHAT: 3,
}
