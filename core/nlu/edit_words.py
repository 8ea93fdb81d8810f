"""The Italian words :mod:`core.nlu.edits` reads cart changes by: verbs, markers, fillers.

Vocabulary, not sentences: inflections of the edit verbs (``togli``, ``toglimi``,
``togliamo`` by prefix), the words that may open a clause, and the words that never name
a product in an edit (``carrello``, ``portale``, ``dimenticavo``); :func:`corrected` puts
misspelt edit verbs right.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz import fuzz, process


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


ADD = _words(
    "anche pure inoltre aggiungi aggiungimi aggiungici aggiungete aggiungetemi aggiungere "
    "aggiungo aggiunga metti mettimi mettici mettete mettetemi mettere metta"
)
REMOVE_PREFIX = ("togli", "tolg", "elimin", "rimuov", "cancell", "lev")
REMOVE_EXACT = _words("leva levami levate levare levala levalo levali levale")
MAKE_IT = _words("fallo falla falli falle")
"""``fallo 3``, ``falle da 2``: with a number right after, the line's new quantity."""
CLEAR_PREFIX = ("svuot", "ricominc", "azzer")
CLEAR_EXACT = _words("rifacciamo ripartiamo resetta")
SET_VERBS = _words("facciamo fanne fammene mettine mettimene mettetene")
SET_PREFIX = ("rimett", "riport")  # "rimettili a 2", "riportale a 3": back to a number
ALSO = _words("anche pure")  # right after an edit verb, its adverb ("togli pure il deo")
ANOTHER = _words("altro altra altri altre")
WANT_NE = _words(
    "voglio vogliamo vorrei prendo prendiamo servono serve metti mettimi porta portami "
    "basta bastano"
)
"""Verbs that, after the clitic ``ne`` (``dell'olio ne voglio 3``), set how many."""
ADD_PREFIX = ("aggiung", "mett", "inserisc", "includ")
NO_LONGER = re.compile(r"((mi|ci) )?((lo|la|li|le|ne) )?(voglio|vogliamo|serve|servono) piu")
CUE_WORDS = tuple(
    sorted(
        _words(
            "aggiungi aggiungimi aggiungere togli toglimi togliere elimina eliminare rimuovi "
            "rimuovere svuota ricominciamo sostituisci cancella levami mettimi metti invece"
        )
    )
)
OPENERS = _words(", e ed ma pero anzi allora poi no ah invece")
FILLER = _words(
    "anzi ah eh ehm aspetta scusa scusami allora quindi carrello ordine invece poi solo soltanto "
    "niente nulla tutto tutti tutte altro altra altri altre ok okay si grazie porta portala "
    "portalo portali portale portamene portami portatemi fai fate mettila mettilo mettili "
    "mettile falli falle fallo falla dimenticavo fammi quantita numero"
)
ARTICLES = _words("il lo la l i gli le")
PREPOSITIONS = _words("di d del della dello dei degli delle dell al alla allo ai agli alle all")


def corrected(tokens: tuple[str, ...], known: Callable[[str], bool]) -> tuple[str, ...]:
    """Tokens with misspelt edit verbs put right (``agiungi``, ``elimna``, ``svota``).

    Only words of five letters or more that the catalogue does not know are corrected,
    and only to a verb they resemble closely.
    """
    out = []
    for token in tokens:
        word = token
        if len(word) >= 5 and word.isalpha() and word not in CUE_WORDS and not known(word):
            found = process.extractOne(word, CUE_WORDS, scorer=fuzz.ratio, score_cutoff=84.0)
            word = found[0] if found else word
        out.append(word)
    return tuple(out)
