"""Text normalisation for the Italian NLU: case and accent folding, tokens, stems.

Everything here is pure and cached by argument (memoisation only, so results never
depend on call order). Tokens are folded words, number-like tokens (``12``, ``1,5``,
``500g``, ``4x85``, ``2x``) and two punctuation marks: ``","`` for every separator and
``"?"`` for a question mark. Apostrophes split words (``un'orchidea`` -> ``un``,
``orchidea``; ``dov'è`` -> ``dov``, ``e``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

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


def tokenize(text: str) -> tuple[str, ...]:
    """Split ``text`` into folded tokens; every separator becomes ``SEP`` except ``?``."""
    out: list[str] = []
    for tok in _TOKEN.findall(fold(text)):
        if tok == QUESTION:
            out.append(QUESTION)
        elif len(tok) == 1 and not tok.isalnum():
            if not out or out[-1] != SEP:
                out.append(SEP)
        else:
            out.append(tok)
    return tuple(out)


def is_word(token: str) -> bool:
    """True for alphabetic-led tokens (words and codes), False for numbers and marks."""
    return token[:1].isalpha()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Italian Snowball stem of a folded word (``mozzarelle`` -> ``mozzarell``)."""
    stemmed: str = _STEMMER.stemWord(word)
    return stemmed or word
