"""Opt-out keywords: when a customer's message means "stop writing to me".

Matching folds case and accents and ignores punctuation and spacing, so ``STOP``,
``Stop!``, ``Non scrivermi più.`` and ``non  scrivermi piu`` all count. The short words
(``stop``, ``basta``) count only as the whole message, optionally with a polite filler
(``basta grazie``): in an order, ``basta così`` means "that is all", not "unsubscribe".
The unambiguous phrases count anywhere in the message.
"""

from __future__ import annotations

import re
import unicodedata

# canonical keyword -> folded spellings accepted as the whole message
_WHOLE: dict[str, frozenset[str]] = {
    "stop": frozenset({"stop", "stopp", "unsubscribe"}),
    "basta": frozenset({"basta", "bastaa"}),
}
# canonical keyword -> folded phrases accepted anywhere
_ANYWHERE: dict[str, tuple[str, ...]] = {
    "cancellami": ("cancellami", "cancellatemi"),
    "disiscrivimi": ("disiscrivimi", "disiscrivetemi", "disiscriviti"),
    "non scrivermi più": ("non scrivermi piu", "non scrivetemi piu", "non mi scrivete piu"),
}
_FILLERS = frozenset({"grazie", "per favore", "perfavore", "pls", "please"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Case- and accent-folded words separated by single spaces (``Più!`` -> ``piu``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", plain).strip()


def opt_out_keyword(text: str | None) -> str | None:
    """The canonical opt-out keyword ``text`` expresses, or None when it is no opt-out."""
    if not text:
        return None
    words = normalize(text)
    padded = f" {words} "
    for keyword, phrases in _ANYWHERE.items():
        if any(f" {phrase} " in padded for phrase in phrases):
            return keyword
    for keyword, spellings in _WHOLE.items():
        for spelling in spellings:
            if words == spelling or _with_filler(words, spelling):
                return keyword
    return None


def _with_filler(words: str, spelling: str) -> bool:
    if not words.startswith(spelling + " "):
        return False
    return words[len(spelling) + 1 :] in _FILLERS


def is_opt_out(text: str | None) -> bool:
    """True when ``text`` is an opt-out request (see :func:`opt_out_keyword`)."""
    return opt_out_keyword(text) is not None
