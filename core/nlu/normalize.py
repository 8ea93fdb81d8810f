"""Text normalisation for the Italian NLU: case and accent folding, tokens, stems.

Everything here is pure and cached by argument (memoisation only, so results never
depend on call order). Tokens are folded words, number-like tokens (``12``, ``1,5``,
``500g``, ``4x85``, ``2x``) and two punctuation marks: ``","`` for every separator and
``"?"`` for a question mark. Apostrophes split words (``un'orchidea`` -> ``un``,
``orchidea``; ``dov'è`` -> ``dov``, ``e``).

WhatsApp spelling is normalised on the way, from the tables of
:mod:`core.nlu.shorthand`: SMS shorthand (``nn`` -> ``non``, ``x`` -> ``per`` except
between numbers), glued words and digits (``unpaio``, ``3latte``), repeated letters
(``graziee``, ``vorreiii``), laughter and emoji; ranges written ``2-3`` read ``2 o 3``;
``no scusa`` after a product or a number corrects it, and reads ``anzi``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

from core.nlu.lexicon import FOR_COUNTED, STOPWORDS
from core.nlu.shorthand import (
    EMOJI_WORDS,
    GLUED,
    KEEP_FINAL_DOUBLE,
    LAUGHTER,
    PHRASES,
    SHORTHAND,
    UNIT_SUFFIXES,
)

SEP = ","
QUESTION = "?"

_STEMMER = snowballstemmer.stemmer("italian")
_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)?(?:x\d+(?:[.,]\d+)?)?[a-z]*"  # 12, 1,5, 500g, 4x85, 2x
    r"|[a-z][a-z0-9]*"  # words, and codes such as ffp2 or x2
    r"|[,;:.!?+\n/()\-]"  # separators
)


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents (``Caffè`` -> ``caffe``), keeping length small."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_GLUED_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?x?)([a-z]{2,})$")
_DASH_RANGE = re.compile(r"(?<![\d.,])(\d{1,3}) ?- ?(\d{1,3})(?![\d.,])")
_RUN = re.compile(r"([a-z])\1{2,}")
_EMOJI = re.compile("|".join(map(re.escape, EMOJI_WORDS)))


def tokenize(text: str) -> tuple[str, ...]:
    """Split ``text`` into folded, normalised tokens; separators become ``SEP`` except ``?``."""
    folded = _DASH_RANGE.sub(r"\1 o \2", fold(text))
    folded = _EMOJI.sub(lambda m: f" {EMOJI_WORDS[m.group(0)]} ", folded)
    raw = _TOKEN.findall(folded)
    out: list[str] = []
    for i, tok in enumerate(raw):
        if tok == QUESTION:
            out.append(QUESTION)
        elif len(tok) == 1 and not tok.isalnum():
            if not out or out[-1] != SEP:
                out.append(SEP)
        elif tok[0].isdigit():
            out.extend(split_glued(tok))
        elif tok == "x" and _between_numbers(out, raw, i):
            out.append(tok)
        else:
            out.extend(rewrite(tok))
    return _self_corrections(_correlatives(_phrases(out)))


_APOLOGIES = frozenset({"scusa", "scusate", "scusami", "scusatemi", "pardon", "sorry", "aspetta"})


def _self_corrections(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """``3 mozzarelle no scusa 2`` reads ``3 mozzarelle anzi 2``: a self-correction.

    Only after a number or a word that may name something: a message that opens with
    ``no scusa`` answers a question, and stays a no.
    """
    out: list[str] = []
    i = 0
    while i < len(tokens):
        before = out[-1] if out else ""
        said = before[:1].isdigit() or (before[:1].isalpha() and before not in STOPWORDS)
        if said and tokens[i] == "no" and i + 1 < len(tokens) and tokens[i + 1] in _APOLOGIES:
            out.append("anzi")
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return tuple(out)


def _correlatives(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """``sia lo shampoo che gli snack`` reads ``lo shampoo e gli snack``: both, as a list.

    The pair closes within its clause (``che``/``sia`` before the next separator); a
    ``sia`` with no partner is the verb (``basta che sia fresco``) and stays.
    """
    if "sia" not in tokens:
        return tokens
    out = list(tokens)
    for i, tok in enumerate(out):
        if tok != "sia":
            continue
        for j in range(i + 2, len(out)):
            if out[j] in (SEP, QUESTION):
                break
            if out[j] in ("che", "sia"):
                out[i], out[j] = "", "e"
                break
    return tuple(t for t in out if t)


def _phrases(tokens: list[str]) -> tuple[str, ...]:
    """``tokens`` with each run listed in :data:`PHRASES` replaced by its reading."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        run = next((r for r in (tuple(tokens[i : i + n]) for n in (3, 2)) if r in PHRASES), None)
        if run is None:
            out.append(tokens[i])
            i += 1
        else:
            out.extend(PHRASES[run])
            i += len(run)
    return tuple(out)


def _between_numbers(out: list[str], raw: list[str], i: int) -> bool:
    """``6 x 1,5``, ``2 x acqua``, ``spaghetti x 3``: an ``x`` next to a number stays ``x``.

    Before a function word it is ``per`` even after a number: ``la 500 x favore``,
    ``spf 50 x i bimbi`` (nobody multiplies by an article), and so it is before a count of
    people or days: ``spaghetti x 4 persone`` is for four people.
    """
    nxt = raw[i + 1] if i + 1 < len(raw) else ""
    before = bool(out) and out[-1][:1].isdigit() and not _function_word(nxt)
    for_whom = i + 2 < len(raw) and raw[i + 2] in FOR_COUNTED  # "x 4 persone": for four
    return before or (nxt[:1].isdigit() and not for_whom)


def _function_word(word: str) -> bool:
    """True when ``word`` (as typed) reads as an article, pronoun or courtesy word."""
    return word[:1].isalpha() and any(w in STOPWORDS for w in rewrite(word))


@lru_cache(maxsize=16384)
def split_glued(tok: str) -> tuple[str, ...]:
    """``3latte`` -> ``3``, ``latte``; sizes and markers such as ``500g`` or ``2x`` stay."""
    m = _GLUED_NUMBER.match(tok)
    if m is None or m.group(2) in UNIT_SUFFIXES:
        return (tok,)
    return (m.group(1), *rewrite(m.group(2)))


@lru_cache(maxsize=65536)
def rewrite(word: str) -> tuple[str, ...]:
    """One folded word as standard Italian tokens: squeezed, unglued, shorthand expanded."""
    word = squeeze(word)
    if LAUGHTER.fullmatch(word):
        return ("ahah",)
    return GLUED.get(word) or SHORTHAND.get(word) or (word,)


def squeeze(word: str) -> str:
    """Letters repeated in a hurry: ``vorreiii`` -> ``vorrei``, ``graziee`` -> ``grazie``.

    Italian never triples a letter: a run of three or more becomes one vowel or two
    consonants. A doubled final vowel is halved unless the word really ends so.
    """
    word = _RUN.sub(lambda m: m.group(1) * (1 if m.group(1) in "aeiou" else 2), word)
    if len(word) > 3 and word[-1] == word[-2] and word[-1] in "aeiou":
        return word if word in KEEP_FINAL_DOUBLE else word[:-1]
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Italian Snowball stem of a folded word (``mozzarelle`` -> ``mozzarell``)."""
    stemmed: str = _STEMMER.stemWord(word)
    return stemmed or word
