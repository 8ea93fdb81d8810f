"""Short answers to the bot's questions: yes, no, cancel, change, add or start over.

Read after folding (``Sì, va bene così!`` -> ``si va bene cosi``). A confirmation is a
yes word (``sì``, ``confermo``, ``ok``, ``va bene``, ``certo``, ``perfetto``,
``procedi``, ``basta così``...), perhaps stressed (``ma sì``, ``beh ok``), with no
negation, cancel word or question in the message, and either nothing else but
politeness (``grazie``, ``così``) or the yes at the start (``sì, per stasera``: the rest
is for the next step). A cancellation is ``annulla``, ``lascia perdere``, ``non mi serve
più``, ``no grazie``...: it wins over a yes in the same message.
A bare ``no``, ``boh`` or ``forse`` is unclear: the caller asks one short question.
"""

from __future__ import annotations

import re
from enum import StrEnum

from rapidfuzz import fuzz, process

from core.nlu.normalize import QUESTION, tokenize


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SHORTHAND = {
    "nn": "non", "tt": "tutto", "anke": "anche", "ke": "che", "bn": "bene", "grz": "grazie",
    "cmq": "comunque", "xfavore": "per favore", "sisi": "si", "okk": "ok", "oki": "ok",
    "okey": "ok", "okei": "ok", "oke": "ok", "perde": "perdere", "vabbene": "va bene",
    "vabene": "va bene",
}  # fmt: skip
"""WhatsApp shorthand read as the words it stands for."""
_REPEATED = re.compile(r"(ok|si|no)\1+")
_THUMBS = ("\N{THUMBS UP SIGN}", "\N{OK HAND SIGN}", "\N{WHITE HEAVY CHECK MARK}")


_FIXABLE = tuple(
    sorted(
        _words(
            "confermo conferma confermiamo perfetto certo certamente procedi procediamo "
            "benissimo assolutamente esatto annulla annullare annullate annullo"
        )
    )
)


def _fixed(word: str) -> str:
    """A misspelt yes or cancel word put right (``confemo``, ``perfeto``, ``anulla``)."""
    if len(word) < 5 or not word.isalpha() or word in _FIXABLE:
        return word
    found = process.extractOne(word, _FIXABLE, scorer=fuzz.ratio, score_cutoff=85.0)
    return found[0] if found else word


def plain_tokens(text: str) -> tuple[str, ...]:
    """Folded tokens with WhatsApp shorthand spelled out (``nn`` -> ``non``)."""
    out: list[str] = []
    for token in tokenize(text):
        t = m.group(1) if (m := _REPEATED.fullmatch(token)) else token  # "okok", "nono"
        out.extend(SHORTHAND.get(t, t).split())
    if any(mark in text for mark in _THUMBS):
        out.append("ok")
    return tuple(out)


class Answer(StrEnum):
    """What a short answer to "Confermi?" means."""

    CONFIRM = "confirm"
    CANCEL = "cancel"
    MODIFY = "modify"
    UNCLEAR = "unclear"
    OTHER = "other"  # not an answer: read the message as anything else


class Merge(StrEnum):
    """The answer to "add to the cart or start a new one?"."""

    ADD = "add"
    NEW = "new"
    OTHER = "other"


_YES = _words(
    "si sisi confermo conferma confermiamo confermato confermata ok okay oki okk "
    "certo certamente perfetto perfetta esatto esatta giusto giusta procedi "
    "procediamo vai andiamo avanti assolutamente ottimo benissimo daccordo yes "
    "ordina ordinalo inviate invia invialo manda mandalo mandamelo mandatelo spedisci "
    "spediscilo spediscimelo"
)
_YES_PHRASES = re.compile(
    r"\b(va bene|va benissimo|d accordo|fai pure|tutto (ok|giusto|bene)"
    r"|(basta|a posto|e tutto|solo questo) cosi|(e|sono|siamo) a posto|e tutto)\b"
)
_POLITE = _words(
    "grazie mille tante cosi e allora pure ora adesso bene va tutto gentile "
    "gentilissimo gentilissima per favore piacere ciao si ok"
)
_NEGATION = frozenset({"no", "non", "ma", "pero", "aspetta", "niente", "nulla", "mica"})
_LEAD = frozenset({"ma", "e", "beh", "allora", "dai", "ah", "oh", "eh", "vabbe", "vabbeh", "vbb"})
"""Openers that only stress a yes right after them (``ma sì``, ``beh ok``, ``vabbè dai manda``)."""
_CANCEL = re.compile(
    r"\b(annull\w*|lascia (perd\w*|stare)|lasciamo (perdere|stare)|lascio (perdere|stare)"
    r"|non (mi |ci )?(serve|servono|interessa|interessano) piu|non (lo |la |li |le )?"
    r"(voglio|vogliamo) piu|non (voglio|vogliamo) (piu )?(niente|nulla)|ci ho ripensato"
    r"|rinuncio|no grazie|niente grazie|non fa niente|cancella (tutto|l ordine|ordine)"
    r"|elimina (tutto|l ordine)|non importa|non ordino piu|ho cambiato idea"
    r"|non (lo|la|li|le) (voglio|vogliamo)$)\b"
)
_MODIFY = re.compile(r"\b(modific\w*|cambia|cambiare|cambiamo|correggi\w*|sbagliat\w*)\b")
_UNSURE = _words("no boh mah forse bo beh mmm mm uhm ehm aspetta vediamo dipende ni non so cosa")
_MERGE_ADD = re.compile(r"\b(aggiung\w*|anche|insieme|entramb\w*|tutti e due|tutte e due|unisci)\b")
_MERGE_NEW = re.compile(
    r"\b(nuovo|nuova|ricominc\w*|da capo|sostitui\w*|solo (questo|questi|queste|quello|quelli"
    r"|il nuovo|i nuovi)|al posto|invece|cancella (il )?vecchio|butta)\b"
)


def read_answer(text: str | None) -> Answer:
    """The meaning of ``text`` as an answer to "Confermi l'ordine?"."""
    tokens = plain_tokens(text or "")
    words = [_fixed(t) for t in tokens if t not in {",", QUESTION}]
    lead = next((i for i, x in enumerate(words) if x not in _LEAD), len(words))
    if lead < len(words) and words[lead] in _YES:
        words = words[lead:]
    if not words:
        return Answer.OTHER
    joined = " ".join(words)
    if _CANCEL.search(joined):
        return Answer.CANCEL
    if _MODIFY.search(joined) and len(words) <= 4:
        return Answer.MODIFY
    yes = bool(set(words) & _YES) or _YES_PHRASES.search(joined) is not None
    doubtful = QUESTION in tokens or bool(set(words) & _NEGATION)
    if yes and not doubtful:
        only_polite = all(w in _YES or w in _POLITE for w in words)
        starts_yes = words[0] in _YES or _YES_PHRASES.match(joined) is not None
        if only_polite or starts_yes:
            return Answer.CONFIRM
    if len(words) <= 3 and all(w in _UNSURE or w in _POLITE or w in _YES for w in words):
        return Answer.UNCLEAR
    return Answer.OTHER


def read_merge(text: str | None) -> Merge:
    """The meaning of ``text`` as an answer to "add to the cart or start over?"."""
    joined = " ".join(t for t in plain_tokens(text or "") if t not in {",", QUESTION})
    new, add = _MERGE_NEW.search(joined), _MERGE_ADD.search(joined)
    if new and not add:
        return Merge.NEW
    if add and not new:
        return Merge.ADD
    return Merge.OTHER
